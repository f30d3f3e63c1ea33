//! Runs the transaction of `benches/transaction.rs` N times (default 1,000) in a plain loop,
//! for instruction counts with callgrind: see `benches/callgrind_transaction.sh`.
//!
//! ```sh
//! cargo run --release -p smtpsim-benches --example transactions -- 1000 [lockstep]
//! ```

use std::hint::black_box;
use std::sync::Arc;

use smtpsim_benches::{body, transaction};
use smtpsim_proto::client::ClientConfig;
use smtpsim_proto::server::ServerConfig;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next().map(|a| a.parse()) {
        None => 1000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: transactions [N] [lockstep]: {e}");
            std::process::exit(2);
        }
    };
    let pipelining = args.next().as_deref() != Some("lockstep");
    let server_config = Arc::new(ServerConfig::new("mx.example.net"));
    let client_config = ClientConfig::new("relay.example.com");
    let content = body(1024);
    let accepted: usize = (0..n)
        .map(|_| {
            transaction(
                &server_config,
                &client_config,
                black_box(&content),
                pipelining,
            )
        })
        .sum();
    assert_eq!(accepted, n, "every transaction delivers its message");
    println!("{accepted} messages accepted");
}
