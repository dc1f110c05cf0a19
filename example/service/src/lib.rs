//! The example workload: a small HTTP service that computes Fibonacci numbers.
//!
//! `GET /fibonacci?n=10` answers `{"n":10,"value":55}`; `GET /healthz` answers
//! `ok`. The same router runs in the example's container (`src/main.rs`) and
//! inside `gpa simulate`, which puts a capacity model in front of it. Both
//! serve `GET /metrics`, a request counter for Prometheus ([`metrics`]).

pub mod metrics;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// The largest `n` accepted: `fibonacci(93)` is the last that fits in a u64.
pub const MAX_N: u32 = 93;

/// Query of `GET /fibonacci`.
#[derive(Debug, Deserialize)]
pub struct FibonacciQuery {
    /// Which Fibonacci number to compute, 0 to [`MAX_N`].
    pub n: u32,
}

/// Body of a `GET /fibonacci` answer.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FibonacciAnswer {
    /// The `n` asked for.
    pub n: u32,
    /// The `n`th Fibonacci number (`fibonacci(0) = 0`, `fibonacci(1) = 1`).
    pub value: u64,
}

/// The `n`th Fibonacci number, computed iteratively.
pub fn fibonacci(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let next = a.wrapping_add(b);
        a = b;
        b = next;
    }
    a
}

/// The service as its container runs it: [`router`] with every request
/// counted, and `GET /metrics`.
pub fn app(metrics: &metrics::RequestMetrics) -> Router {
    metrics.serve(router())
}

/// The service's routes: `GET /fibonacci?n=N` and `GET /healthz`.
pub fn router() -> Router {
    Router::new()
        .route("/fibonacci", get(fibonacci_handler))
        .route("/healthz", get(|| async { "ok" }))
}

async fn fibonacci_handler(
    Query(query): Query<FibonacciQuery>,
) -> Result<Json<FibonacciAnswer>, (StatusCode, String)> {
    if query.n > MAX_N {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("n {} is too large; expected 0 to {MAX_N}", query.n),
        ));
    }
    Ok(Json(FibonacciAnswer {
        n: query.n,
        value: fibonacci(query.n),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_known_fibonacci_numbers() {
        let known = [
            (0, 0),
            (1, 1),
            (2, 1),
            (10, 55),
            (20, 6765),
            (93, 12200160415121876738),
        ];
        for (n, value) in known {
            assert_eq!(fibonacci(n), value, "fibonacci({n})");
        }
    }
}
