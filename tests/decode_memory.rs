//! Peak heap while decoding a large LstsummaryUser page (issue 15 item 7):
//! within 3× the size of the input, the input itself included. A test binary of
//! its own, since dhat's allocator counts every allocation of the process.

#[path = "common/pages.rs"]
mod pages;

use wbxprov::ops::{Answer, Operation};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

#[test]
fn a_large_list_page_is_detected_and_decoded_within_three_times_its_size() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let users = 25_000;
    let page = pages::list_page(users);
    let size = page.len();
    assert!(size > 10_000_000, "a page of {size} bytes");

    // What `wbxprov decode FILE` does: detect the operation, then decode.
    let operation = Operation::detect(&page).unwrap();
    assert_eq!(operation, Some(Operation::LstsummaryUser));
    let response = Operation::LstsummaryUser.decode(&page).unwrap();
    let Ok(Answer::UserPage(decoded)) = &response.result else {
        panic!("not a page: {:?}", response.result.map(|_| ()));
    };
    assert_eq!(decoded.users.len(), users);
    assert_eq!(decoded.users[7].last_name.as_deref(), Some("O'Brien"));

    let stats = dhat::HeapStats::get();
    let ratio = stats.max_bytes as f64 / size as f64;
    println!(
        "input {size} bytes, peak heap {} bytes ({ratio:.2}×)",
        stats.max_bytes
    );
    assert!(
        stats.max_bytes <= 3 * size,
        "peak heap {} bytes is {ratio:.2}× the {size}-byte input",
        stats.max_bytes
    );
}
