//! Whole simulations: the bundled quickstart day and the M/M/4 validation queue, traces off,
//! single thread. Throughput is in messages; `smtpsim run` prints events per second too.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{self, Options, RecipientRecord, Recorder};

/// Counts rows, so the work of building them is not optimised away.
#[derive(Default)]
struct Count(u64);

impl Recorder for Count {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.0 += u64::from(record.attempts);
    }
}

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    Scenario::load(&path).expect("bundled scenario")
}

fn bench_simulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    for (name, messages) in [
        ("quickstart.toml", 100_000u64),
        ("validation/mm4.toml", 100_000),
    ] {
        let scenario = load(name);
        let options = Options {
            messages: Some(messages),
            ..Options::default()
        };
        group.throughput(Throughput::Elements(messages));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut count = Count::default();
                sim::run(&scenario, &options, &mut count).expect("runs");
                count.0
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_simulate);
criterion_main!(benches);
