#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    smtpsim_model::fuzzing::scenario(data);
});
