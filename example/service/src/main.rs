//! The example workload's executable: serves [`fibonacci_service::app`] (the
//! routes, every request counted, and `GET /metrics`) on
//! `$BIND_ADDRESS:$PORT` (default `0.0.0.0:8080`, every interface, as a
//! container needs; `BIND_ADDRESS=127.0.0.1` for this machine only) until
//! SIGTERM or Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Reads `PORT` and `BIND_ADDRESS`, then serves until SIGTERM or Ctrl-C.
async fn serve() -> std::io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(value) => value.parse().map_err(|_| {
            std::io::Error::other(format!(
                "PORT '{value}' is not a port number; expected 1 to 65535"
            ))
        })?,
        Err(_) => 8080,
    };
    let address: IpAddr = match std::env::var("BIND_ADDRESS") {
        Ok(value) if !value.trim().is_empty() => value.trim().parse().map_err(|_| {
            std::io::Error::other(format!(
                "BIND_ADDRESS '{value}' is not an IP address; expected e.g. 127.0.0.1 or 0.0.0.0"
            ))
        })?,
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(address, port)).await?;
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
