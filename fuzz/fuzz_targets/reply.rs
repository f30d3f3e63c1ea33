#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    smtpsim_proto::fuzzing::reply(data);
});
