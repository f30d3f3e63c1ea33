mod support;

use smtpsim_model::sim::{Options, TraceMode};

#[test]
fn smoke() {
    let scenario = support::load("validation/greylist.toml");
    let (memory, stats) = support::run(&scenario, &Options { messages: Some(3), trace: TraceMode::All, ..Options::default() });
    for line in &memory.trace { println!("{line}"); }
    for row in &memory.rows { println!("{row:?}"); }
    println!("{stats:?}");
}
