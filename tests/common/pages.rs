//! Large generated responses, for the memory tests of `decode` (issue 15 item 7).
//! Included with `#[path]` by the tests that need it.

use std::fmt::Write as _;

/// One LstsummaryUser SUCCESS page of `users` users, laid out like
/// `fixtures/responses/lstsummaryuser-page.xml` (≈ 400 bytes a user; some
/// names carry escaped markup and non-ASCII letters).
pub fn list_page(users: usize) -> Vec<u8> {
    const FIRST: [&str; 4] = ["Alice", "Zoë", "Support &amp; Ops", "Tomás"];
    const LAST: [&str; 4] = ["Smith", "O&apos;Brien", "&lt;Tier 2&gt;", "Müller"];
    let mut x = String::with_capacity(users * 420 + 1024);
    x.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<serv:message xmlns:serv="http://www.webex.com/schemas/2002/06/service" xmlns:com="http://www.webex.com/schemas/2002/06/common" xmlns:use="http://www.webex.com/schemas/2002/06/service/user">"#,
        "\n  <serv:header>\n    <serv:response>\n",
        "      <serv:result>SUCCESS</serv:result>\n",
        "      <serv:gsbStatus>PRIMARY</serv:gsbStatus>\n",
        "    </serv:response>\n  </serv:header>\n  <serv:body>\n",
        r#"    <serv:bodyContent xsi:type="use:LstsummaryUserResponse" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
        "\n",
    ));
    for i in 0..users {
        let _ = write!(
            x,
            "      <use:user>\n\
             \x20       <use:webExId>user{i:07}</use:webExId>\n\
             \x20       <use:firstName>{first}</use:firstName>\n\
             \x20       <use:lastName>{last}</use:lastName>\n\
             \x20       <use:email>first.last{i:07}@corp.example.com</use:email>\n\
             \x20       <use:registrationDate>03/{day:02}/2015 12:34:56</use:registrationDate>\n\
             \x20       <use:active>ACTIVATED</use:active>\n\
             \x20       <use:timeZoneID>{tz}</use:timeZoneID>\n\
             \x20     </use:user>\n",
            first = FIRST[i % 4],
            last = LAST[(i / 4) % 4],
            day = 1 + i % 28,
            tz = 1 + i % 61,
        );
    }
    let _ = write!(
        x,
        "      <use:matchingRecords>\n\
         \x20       <serv:total>{users}</serv:total>\n\
         \x20       <serv:returned>{users}</serv:returned>\n\
         \x20       <serv:startFrom>1</serv:startFrom>\n\
         \x20     </use:matchingRecords>\n\
         \x20   </serv:bodyContent>\n\
         \x20 </serv:body>\n\
         </serv:message>\n"
    );
    x.into_bytes()
}
