//! A metric executable with a compiled goose scenario: the Rust counterpart
//! of a locustfile. It is `gpa-metric` with one more scenario: same settings
//! (gooseHost, gooseUsers, ...), same stdout guard, same JSON report. A
//! scenario file, when configured or present at /scenario.yaml, runs beside it.
//!
//! The scenario fits the example service (`example/service`): what a
//! scenario file cannot say is that an answer must hold the right number.

use std::process::ExitCode;

use goose::prelude::*;

/// Asks for `fibonacci(20)` and counts the request a success only when the
/// answer's `value` is 6765 (a scenario file can only check the status), then
/// asks for an `n` the service refuses, expecting its `400 Bad Request`: two
/// requests, reported as `GET fibonacci` and `GET too large`.
async fn fibonacci(user: &mut GooseUser) -> TransactionResult {
    let request = GooseRequest::builder()
        .path("/fibonacci?n=20")
        .name("fibonacci")
        .build();
    let mut goose = user.request(request).await?;
    let value = match goose.response {
        Ok(response) => response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|body| body["value"].as_u64()),
        Err(_) => None,
    };
    if value != Some(6765) {
        let tag = format!("fibonacci(20) answered {value:?}; expected 6765");
        return user.set_failure(&tag, &mut goose.request, None, None);
    }
    let too_large = GooseRequest::builder()
        .path("/fibonacci?n=94")
        .name("too large")
        .expect_status_code(400)
        .build();
    user.request(too_large).await?;
    Ok(())
}

fn main() -> ExitCode {
    goose_pod_autoscaler::metric::main_with(|| {
        vec![
            scenario!("fibonacci")
                .set_wait_time(
                    std::time::Duration::from_millis(100),
                    std::time::Duration::from_millis(300),
                )
                .expect("100 ms to 300 ms is a valid wait time")
                .register_transaction(transaction!(fibonacci)),
        ]
    })
}
