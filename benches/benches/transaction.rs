//! A whole SMTP transaction in memory: the client session against the server session, from
//! the greeting to QUIT, one recipient, a 1 KB body.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpsim_benches::{body, transaction};
use smtpsim_proto::client::ClientConfig;
use smtpsim_proto::server::ServerConfig;

fn bench_transaction(c: &mut Criterion) {
    let server_config = Arc::new(ServerConfig::new("mx.example.net"));
    let client_config = ClientConfig::new("relay.example.com");
    let content = body(1024);
    assert_eq!(
        transaction(&server_config, &client_config, &content, true),
        1
    );
    let mut group = c.benchmark_group("transaction");
    group.throughput(Throughput::Elements(1));
    for pipelining in [true, false] {
        let name = if pipelining {
            "ehlo-to-quit 1KB pipelined"
        } else {
            "ehlo-to-quit 1KB lockstep"
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                transaction(
                    &server_config,
                    &client_config,
                    black_box(&content),
                    pipelining,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_transaction);
criterion_main!(benches);
