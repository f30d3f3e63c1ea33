//! Command-line parsing: our parser against `smtp-proto`'s on the same realistic mix of lines
//! ([`smtpsim_benches::COMMAND_LINES`]). `smtp-proto` reads up to and including the LF, so it
//! gets the same lines with CRLF; both inputs are prepared outside the timed loop.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpsim_benches::COMMAND_LINES;
use smtpsim_proto::Command;

fn bench_parse(c: &mut Criterion) {
    let with_crlf: Vec<Vec<u8>> = COMMAND_LINES
        .iter()
        .map(|line| [*line, b"\r\n"].concat())
        .collect();
    for (line, wire) in COMMAND_LINES.iter().zip(&with_crlf) {
        assert!(Command::parse(line).is_ok(), "{line:?}");
        assert!(
            smtp_proto::Request::parse(&mut wire.iter()).is_ok(),
            "{wire:?}"
        );
    }

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(COMMAND_LINES.len() as u64));
    group.bench_function("smtpsim", |b| {
        b.iter(|| {
            for line in black_box(COMMAND_LINES) {
                let _ = black_box(Command::parse(line));
            }
        })
    });
    group.bench_function("smtp-proto", |b| {
        b.iter(|| {
            for line in black_box(&with_crlf) {
                let _ = black_box(smtp_proto::Request::parse(&mut line.iter()));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
