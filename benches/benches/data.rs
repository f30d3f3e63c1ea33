//! The DATA reader on a 1 MiB message of ordinary text lines, fed as a server reads it from
//! the network (16 KiB reads that start anywhere in a line), and in one piece.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpsim_proto::data::DataReader;

/// A message of `len` bytes of 64-byte lines, then the end-of-data line.
fn wire(len: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity(len + 3);
    while wire.len() < len {
        wire.extend_from_slice(
            b"The quick brown fox jumps over the lazy dog, again and again.\r\n",
        );
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

/// Reads the message fed in pieces of `read` bytes; returns the content's length.
fn read(wire: &[u8], read: usize) -> usize {
    let mut reader = DataReader::with_capacity(1000, 1 << 30, wire.len() as u64);
    for chunk in wire.chunks(read) {
        if reader.feed(chunk).is_some() {
            break;
        }
    }
    reader.content().len()
}

fn bench_data(c: &mut Criterion) {
    let wire = wire(1 << 20);
    assert_eq!(read(&wire, 16 * 1024), wire.len() - 3);
    let mut group = c.benchmark_group("data reader, 1 MiB of text lines");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("16 KiB reads", |b| {
        b.iter(|| read(black_box(&wire), 16 * 1024))
    });
    group.bench_function("one piece", |b| {
        b.iter(|| read(black_box(&wire), wire.len()))
    });
    group.finish();
}

criterion_group!(benches, bench_data);
criterion_main!(benches);
