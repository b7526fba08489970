//! One Deribit connection fed a sequence of frames (`\n`-separated);
//! the checks are `mercury_fuzz::check_session`'s (replies included: at
//! most one per frame, bounded in size).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mercury_core::Decoder;
use mercury_exchange_deribit::Deribit;

#[global_allocator]
static ALLOC: mercury_fuzz::CountingAlloc = mercury_fuzz::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    mercury_fuzz::check_session(Decoder::new(&Deribit), data);
});
