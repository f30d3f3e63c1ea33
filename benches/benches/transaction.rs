//! A whole SMTP transaction in memory: the client session against the server session, from
//! the greeting to QUIT, one recipient, a 1 KB body.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpsim_proto::client::{ClientConfig, ClientSession, OutgoingMessage};
use smtpsim_proto::loopback::converse;
use smtpsim_proto::server::{AcceptAll, ServerConfig, ServerSession};

fn body(len: usize) -> Arc<[u8]> {
    let mut body =
        b"From: a@example.com\r\nTo: b@example.net\r\nSubject: benchmark\r\n\r\n".to_vec();
    while body.len() < len {
        body.extend_from_slice(
            b"The quick brown fox jumps over the lazy dog, again and again.\r\n",
        );
    }
    body.truncate(len - 2);
    body.extend_from_slice(b"\r\n");
    body.into()
}

/// Runs one transaction; returns the number of messages the server accepted.
fn transaction(
    server_config: &Arc<ServerConfig>,
    client_config: &ClientConfig,
    content: &Arc<[u8]>,
    pipelining: bool,
) -> usize {
    let message = OutgoingMessage {
        from: "a@example.com".to_string(),
        recipients: vec!["b@example.net".to_string()],
        content: content.clone(),
        declared_size: None,
    };
    let mut config = client_config.clone();
    config.pipelining = pipelining;
    let mut client = ClientSession::new(config, message).expect("valid message");
    let mut server = ServerSession::new(server_config.clone(), AcceptAll, None);
    converse(&mut client, &mut server).len()
}

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
