//! Fuzzes response decoding: for any bytes, `wbxprov::xml::decode` returns
//! `Ok` or `Err` for every body type and never panics (nor overflows the stack,
//! nor runs away in time or memory). The results themselves are ignored.
//!
//! Run (cargo-fuzz needs a nightly toolchain), from the repository root:
//!
//! ```sh
//! cargo +nightly fuzz run decode_response
//! ```
//!
//! Seed corpus: the fixtures in `fixtures/responses/` make a good one (every
//! operation's SUCCESS, every FAILURE kind, prefixed and unprefixed namespaces,
//! escaped text). Copy them in once before the first run:
//!
//! ```sh
//! mkdir -p fuzz/corpus/decode_response && cp fixtures/responses/*.xml fuzz/corpus/decode_response/
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use wbxprov::ops::{
    CreatedUser, Deleted, MeetingTypeList, SessionTicket, SiteInstance, Updated, UserPage,
};
use wbxprov::xml::decode;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<UserPage>(data);
    let _ = decode::<wbxprov::User>(data);
    let _ = decode::<CreatedUser>(data);
    let _ = decode::<Updated>(data);
    let _ = decode::<Deleted>(data);
    let _ = decode::<SessionTicket>(data);
    let _ = decode::<SiteInstance>(data);
    let _ = decode::<MeetingTypeList>(data);
});
