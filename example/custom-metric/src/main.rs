//! A metric executable with a compiled goose scenario: the Rust counterpart
//! of a locustfile. It is `gpa-metric` with one more scenario: same settings
//! (gooseHost, gooseUsers, ...), same stdout guard, same JSON report. A
//! scenario file, when configured or present at /scenario.yaml, runs beside it.

use std::process::ExitCode;

use goose::prelude::*;

/// Puts an item in the cart, then checks out: two requests, reported as
/// `POST cart` and `POST checkout`.
async fn buy(user: &mut GooseUser) -> TransactionResult {
    let item = serde_json::json!({"item": "fibonacci", "quantity": 1});
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path("/cart")
        .name("cart")
        .set_request_builder(
            user.get_request_builder(&GooseMethod::Post, "/cart")?
                .json(&item),
        )
        .build();
    user.request(request).await?;
    let checkout = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path("/checkout")
        .name("checkout")
        .expect_status_code(201)
        .build();
    user.request(checkout).await?;
    Ok(())
}

fn main() -> ExitCode {
    goose_pod_autoscaler::metric::main_with(|| {
        vec![scenario!("shopper").register_transaction(transaction!(buy))]
    })
}
