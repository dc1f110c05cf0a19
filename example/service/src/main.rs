//! The example workload's executable: serves [`fibonacci_service::app`] (the
//! routes, every request counted, and `GET /metrics`) on `0.0.0.0:$PORT`
//! (default 8080) until SIGTERM or Ctrl-C.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(value) => value.parse().map_err(|_| {
            std::io::Error::other(format!(
                "PORT '{value}' is not a port number; expected 1 to 65535"
            ))
        })?,
        Err(_) => 8080,
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
    eprintln!("fibonacci-service listening on {}", listener.local_addr()?);
    let metrics = fibonacci_service::metrics::RequestMetrics::new();
    axum::serve(listener, fibonacci_service::app(&metrics))
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler cannot fail on Unix");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
