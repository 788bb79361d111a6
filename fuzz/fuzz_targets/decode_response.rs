//! Fuzzes response decoding: for any bytes, `wbxprov::xml::decode` returns
//! `Ok` or `Err` for every body type, and so do operation detection and the raw
//! tree, never panicking (nor overflowing the stack, nor running away in time
//! or memory). The results themselves are ignored.
//!
//! How to install cargo-fuzz and run this target: see `fuzz/README.md`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wbxprov::ops::{
    CreatedUser, Deleted, MeetingTypeList, Operation, SessionTicket, SiteInstance, Updated,
    UserPage,
};
use wbxprov::xml::{decode, tree};

fuzz_target!(|data: &[u8]| {
    let _ = Operation::detect(data);
    let _ = tree::parse(data);
    let _ = decode::<UserPage>(data);
    let _ = decode::<wbxprov::User>(data);
    let _ = decode::<CreatedUser>(data);
    let _ = decode::<Updated>(data);
    let _ = decode::<Deleted>(data);
    let _ = decode::<SessionTicket>(data);
    let _ = decode::<SiteInstance>(data);
    let _ = decode::<MeetingTypeList>(data);
});
