//! The simulator's GetSite and LstMeetingType answers, written from a site
//! profile. Feature flags go where `schema/site-features.tsv` says GetSite
//! reports them, so wbxprov's own reader gets the same profile back.

use crate::schema::FEATURES;
use crate::site::SiteProfile;
use crate::xml::Secrets;
use crate::xml::encode::{BodyWriter, EncodeError, XmlNs, encode_response};

/// An element under construction: children in insertion order.
#[derive(Default)]
struct Node {
    text: Option<String>,
    children: Vec<(String, Node)>,
}

impl Node {
    fn child(&mut self, name: &str) -> &mut Node {
        let at = match self.children.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.children.push((name.to_owned(), Node::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[at].1
    }

    fn set(&mut self, path: &str, text: String) {
        let node = path.split('/').fold(self, |n, name| n.child(name));
        node.text = Some(text);
    }

    /// A repeated child (`meetingTypes`, `serviceType`), always appended.
    fn push(&mut self, name: &str) -> &mut Node {
        self.children.push((name.to_owned(), Node::default()));
        &mut self.children.last_mut().expect("just pushed").1
    }

    fn write(&self, body: &mut BodyWriter) {
        for (name, node) in &self.children {
            match &node.text {
                Some(t) if node.children.is_empty() => body.text(XmlNs::Site, name, t),
                _ => {
                    body.open(XmlNs::Site, name);
                    node.write(body);
                    body.close();
                }
            }
        }
    }
}

/// `Meeting Center` for `MeetingCenter`: GetSite spells services with a space.
fn spaced(service: &str) -> String {
    let mut out = String::new();
    for (i, c) in service.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A GetSite SUCCESS response describing `profile`.
pub fn getsite_response(profile: &SiteProfile) -> Result<String, EncodeError> {
    let mut site = Node::default();
    let meta = site.child("metaData");
    for (service, on) in profile.services() {
        if on {
            meta.push("serviceType").text = Some(spaced(service));
        }
    }
    for m in &profile.meeting_types {
        let t = meta.push("meetingTypes");
        t.child("meetingTypeID").text = Some(m.id.to_string());
        if let Some(name) = &m.name {
            t.child("meetingTypeName").text = Some(name.clone());
        }
    }
    meta.child("siteName").text = Some(profile.site_name.clone().unwrap_or_default());
    for f in FEATURES.iter() {
        site.set(f.getsite_path, profile.feature(f.feature).to_string());
    }
    if let Some(c) = &profile.password_criteria {
        let node = site.child("accountPasswordCriteria");
        let bools = [
            ("mixedCase", c.mixed_case),
            ("disallow3XRepeatedChar", c.disallow_3x_repeated_char),
            ("disallowWebTextAccounts", c.disallow_web_text_accounts),
            ("disallowList", c.disallow_list),
        ];
        let ints = [
            ("minLength", c.min_length),
            ("minNumeric", c.min_numeric),
            ("minAlpha", c.min_alpha),
            ("minSpecial", c.min_special),
        ];
        for (name, v) in bools {
            if let Some(v) = v {
                node.child(name).text = Some(v.to_string());
            }
        }
        for (name, v) in ints {
            if let Some(v) = v {
                node.child(name).text = Some(v.to_string());
            }
        }
        for value in &c.disallow_values {
            node.push("disallowValue").text = Some(value.clone());
        }
    }
    encode_response((XmlNs::Site, "getSiteResponse"), Secrets::Mask, |body| {
        body.open(XmlNs::Site, "siteInstance");
        site.write(body);
        body.close();
        Ok(())
    })
}

/// A LstMeetingType SUCCESS response listing the profile's session types.
pub fn meeting_types_response(profile: &SiteProfile) -> Result<String, EncodeError> {
    let m = XmlNs::MeetingType;
    encode_response((m, "lstMeetingTypeResponse"), Secrets::Mask, |body| {
        let n = profile.meeting_types.len().to_string();
        body.open(m, "matchingRecords");
        body.text(XmlNs::Service, "total", &n);
        body.text(XmlNs::Service, "returned", &n);
        body.text(XmlNs::Service, "startFrom", "1");
        body.close();
        for t in &profile.meeting_types {
            body.open(m, "meetingType");
            if let Some(name) = &t.name {
                body.text(m, "productCodePrefix", name);
                body.text(m, "name", name);
            }
            body.text(m, "active", "ACTIVATED");
            body.text(m, "meetingTypeID", &t.id.to_string());
            if let Some(service) = &t.service {
                body.open(m, "serviceTypes");
                body.text(m, "serviceType", service);
                body.close();
            }
            body.close();
        }
        Ok(())
    })
}
