//! Rules across attributes and against the site's values (site-features.md):
//! HD needs HQ, session types and services the site offers, explicit
//! supportedServices, time zone pairs, repeated groups, password criteria,
//! paired phones, WebACD coherence and licence counts.

use super::value::is_set;
use super::{Change, Operation, Rule, Violation, violation};
use crate::ops::PasswordCriteria;
use crate::schema::{ATTRIBUTES, Attribute, FlatKey, TIME_ZONES, Value};
use crate::site::SiteProfile;

/// GetUser answers `******` for the password; pushing it back would set that as the password.
const GETUSER_PASSWORD_MASK: &str = "******";

/// The rules of the user as it will be. `whole`: `user` is the whole user (a
/// create, or the current user with an update applied); else only a change, of
/// which the rules judge what it says.
pub(super) fn user_rules(
    user: &Change<'_>,
    whole: bool,
    profile: &SiteProfile,
    out: &mut Vec<Violation>,
) {
    let get = |a: Attribute| user.get(a);
    let key = FlatKey::new;

    // HD video needs HQ video: HQ must be on in a whole user; a change must not switch it off.
    if let Some(hd @ Value::Bool(true)) = get(Attribute::PrivilegeHDvideo) {
        let hq = get(Attribute::PrivilegeHQvideo);
        let broken = match whole {
            true => hq != Some(&Value::Bool(true)),
            false => hq == Some(&Value::Bool(false)),
        };
        if broken {
            out.push(violation(
                key(Attribute::PrivilegeHDvideo),
                Some(hd),
                Rule::HdNeedsHq,
                "HD video needs HQ video (privilegeHQvideo=true)",
                "set privilegeHQvideo=true as well, or drop privilegeHDvideo",
            ));
        }
    }

    // Session types: only the site's, and the default among the user's.
    let offered = |id: i64| profile.meeting_types.is_empty() || profile.session_type(id).is_some();
    let site_ids = || {
        let ids: Vec<String> = profile
            .meeting_types
            .iter()
            .map(|m| m.id.to_string())
            .collect();
        ids.join(", ")
    };
    let user_types = match get(Attribute::MeetingTypes) {
        Some(v @ Value::IntList(ids)) => {
            let unknown: Vec<String> = ids
                .iter()
                .filter(|i| !offered(**i))
                .map(i64::to_string)
                .collect();
            if !unknown.is_empty() {
                out.push(violation(
                    key(Attribute::MeetingTypes),
                    Some(v),
                    Rule::SessionType,
                    format!(
                        "session type(s) {} not offered by the site (it offers {})",
                        unknown.join(", "),
                        site_ids()
                    ),
                    "map only the site's session types",
                ));
            }
            Some(ids.as_slice())
        }
        _ => None,
    };
    if let Some(v @ Value::Int(id)) = get(Attribute::SessionOptionsDefaultSessionType) {
        if !offered(*id) {
            out.push(violation(
                key(Attribute::SessionOptionsDefaultSessionType),
                Some(v),
                Rule::SessionType,
                format!(
                    "session type {id} is not offered by the site (it offers {})",
                    site_ids()
                ),
                "name one of the site's session types",
            ));
        } else if user_types.is_some_and(|ids| !ids.contains(id)) {
            out.push(violation(
                key(Attribute::SessionOptionsDefaultSessionType),
                Some(v),
                Rule::SessionType,
                "not among the user's meetingTypes",
                "add it to meetingTypes or choose one of them",
            ));
        }
    }

    // The default service must be enabled on the site.
    if let Some(v @ Value::Text(service)) = get(Attribute::SessionOptionsDefaultServiceType) {
        let known = profile.services().any(|(s, _)| s == service);
        if known && !profile.service_enabled(service) {
            out.push(violation(
                key(Attribute::SessionOptionsDefaultServiceType),
                Some(v),
                Rule::Service,
                format!("service {service} is not enabled on the site"),
                "choose an enabled service",
            ));
        }
    }

    // supportedServices* must be explicit booleans whenever meetingTypes are set
    // (seed 003), for the services the site offers: one it does not have cannot
    // be asked for (issue 16 item 6).
    if user_types.is_some() {
        for info in offered_services(profile).map(Attribute::info) {
            if user.get(info.attribute).is_none() {
                out.push(violation(
                    FlatKey::new(info.attribute),
                    None,
                    Rule::SupportedServices,
                    "must be given explicitly (true or false) when meetingTypes is set",
                    format!("map {} to true or false", info.name),
                ));
            }
        }
    }

    repeated_groups(user, out);
    web_acd(user, out);
}

/// The rules of what a change says, whatever the user holds now: the time zone
/// pair it maps, its password, the phones it blanks, the licences it takes.
pub(super) fn change_rules(
    change: &Change<'_>,
    operation: Operation,
    profile: &SiteProfile,
    out: &mut Vec<Violation>,
) {
    let get = |a: Attribute| change.get(a);
    let key = FlatKey::new;
    // timeZoneID is the position of timeZone in the catalogue's zone list.
    if let (Some(Value::Int(id)), Some(v @ Value::Text(name))) =
        (get(Attribute::TimeZoneID), get(Attribute::TimeZone))
    {
        let expected = usize::try_from(*id).ok().and_then(|i| TIME_ZONES.get(i));
        if expected.is_some_and(|e| e != name) {
            out.push(violation(
                key(Attribute::TimeZone),
                Some(v),
                Rule::TimeZone,
                format!("timeZoneID {id} is {:?}", expected.expect("checked")),
                "map only one of timeZoneID and timeZone, or make them agree",
            ));
        }
    }

    password(change, operation, profile, out);
    phones(change, out);
    licences(change, operation, profile, out);
}

/// The `supportedServices/*` attributes of the services `profile` offers.
pub(super) fn offered_services(profile: &SiteProfile) -> impl Iterator<Item = Attribute> + '_ {
    catalogue_sets()
        .supported_services
        .iter()
        .copied()
        .filter(|a| a.info().gate.iter().all(|f| profile.feature(*f)))
}

/// Occurrences of a repeated group are positions on the wire: they must be
/// contiguous from the first, and an `accountIndex` may appear only once.
fn repeated_groups(change: &Change<'_>, out: &mut Vec<Violation>) {
    for &(group, used) in &change.groups {
        let first_gap = used.trailing_ones();
        if used >> first_gap == 0 {
            continue;
        }
        // Report the first attribute in an occurrence beyond the gap.
        if let Some((key, value)) = change.flat.iter().find(|(k, _)| {
            k.attribute.repeated_group() == Some(group) && u32::from(k.slot) > first_gap
        }) {
            out.push(violation(
                *key,
                Some(value),
                Rule::RepeatedGroup,
                format!(
                    "occurrence {} is empty, so this one would be sent as {}",
                    first_gap + 1,
                    first_gap + 1
                ),
                "number the occurrences from 1 without gaps",
            ));
        }
    }
    for info in catalogue_sets().account_indexes.iter().map(|a| a.info()) {
        let max = info.repeat.map_or(1, |r| r.max);
        let mut seen: Vec<i64> = Vec::new();
        for slot in 0..max {
            let k = FlatKey::with_slot(info.attribute, slot);
            if let Some(v @ Value::Int(i)) = change.get_key(k) {
                if seen.contains(i) {
                    out.push(violation(
                        k,
                        Some(v),
                        Rule::RepeatedGroup,
                        format!("accountIndex {i} is used by an earlier account"),
                        "give each account its own index",
                    ));
                }
                seen.push(*i);
            }
        }
    }
}

fn password(
    change: &Change<'_>,
    operation: Operation,
    profile: &SiteProfile,
    out: &mut Vec<Violation>,
) {
    let key = FlatKey::new(Attribute::Password);
    let Some(value @ Value::Secret(secret)) = change.get(Attribute::Password) else {
        return;
    };
    let pw = secret.expose();
    if pw == GETUSER_PASSWORD_MASK {
        out.push(violation(
            key,
            Some(value),
            Rule::Password,
            "is the mask GetUser returns, not a password",
            "never copy the password from GetUser; map the real one or leave it out",
        ));
        return;
    }
    if operation == Operation::Update && pw.is_empty() {
        return;
    }
    let Some(c) = &profile.password_criteria else {
        return;
    };
    let failed = criteria_failures(pw, c, change);
    if !failed.is_empty() {
        out.push(violation(
            key,
            Some(value),
            Rule::Password,
            format!("breaks the site's password rules: {}", failed.join("; ")),
            "choose a password that meets the site's account password criteria",
        ));
    }
}

/// The account password criteria a password breaks (never quoting the password).
pub(crate) fn criteria_failures(
    pw: &str,
    c: &PasswordCriteria,
    change: &Change<'_>,
) -> Vec<String> {
    let mut failed = Vec::new();
    let count = |f: fn(&char) -> bool| pw.chars().filter(f).count() as i64;
    if let Some(n) = c.min_length.filter(|n| (pw.chars().count() as i64) < *n) {
        failed.push(format!("at least {n} characters"));
    }
    if let Some(n) = c.min_numeric.filter(|n| count(char::is_ascii_digit) < *n) {
        failed.push(format!("at least {n} digit(s)"));
    }
    if let Some(n) = c.min_alpha.filter(|n| count(|c| c.is_alphabetic()) < *n) {
        failed.push(format!("at least {n} letter(s)"));
    }
    if let Some(n) = c
        .min_special
        .filter(|n| count(|c| !c.is_alphanumeric()) < *n)
    {
        failed.push(format!("at least {n} special character(s)"));
    }
    if c.mixed_case == Some(true)
        && !(pw.chars().any(char::is_uppercase) && pw.chars().any(char::is_lowercase))
    {
        failed.push("upper- and lower-case letters".into());
    }
    if c.disallow_3x_repeated_char == Some(true) {
        let chars: Vec<char> = pw.chars().collect();
        if chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
            failed.push("no character three times in a row".into());
        }
    }
    if c.disallow_list == Some(true) {
        let lower = pw.to_lowercase();
        if c.disallow_values.iter().any(|d| lower == d.to_lowercase()) {
            failed.push("not a word on the site's list of disallowed passwords".into());
        }
    }
    if c.disallow_web_text_accounts == Some(true) {
        let lower = pw.to_lowercase();
        let account_texts = [
            Attribute::WebExId,
            Attribute::FirstName,
            Attribute::LastName,
            Attribute::Email,
        ];
        let used = account_texts.iter().any(|a| match change.get(*a) {
            Some(Value::Text(t)) if t.chars().count() >= 3 => lower.contains(&t.to_lowercase()),
            _ => false,
        });
        if used {
            failed.push("not containing the user's Webex ID, name or email".into());
        }
    }
    failed
}

/// Okta pushes phonesPhone and phonesMobilePhone together (seed 003): a change
/// that sets one must not blank the other.
fn phones(change: &Change<'_>, out: &mut Vec<Violation>) {
    let pair = [Attribute::PhonesPhone, Attribute::PhonesMobilePhone];
    for (this, other) in [(pair[0], pair[1]), (pair[1], pair[0])] {
        let (Some(Value::Text(set)), Some(v @ Value::Text(blank))) =
            (change.get(this), change.get(other))
        else {
            continue;
        };
        if !set.is_empty() && blank.is_empty() {
            out.push(violation(
                FlatKey::new(other),
                Some(v),
                Rule::Phone,
                format!("would blank the number while {} is set", this.name()),
                format!(
                    "leave {} out of the change instead of sending it empty",
                    other.name()
                ),
            ));
        }
    }
}

/// WebACD: agent settings need isAgent, manager settings need isMgr.
fn web_acd(change: &Change<'_>, out: &mut Vec<Violation>) {
    let get = |a: Attribute| change.get(a);
    let off = |a: Attribute| get(a) == Some(&Value::Bool(false));
    let needs = [
        (
            Attribute::WebACDPrefsNumAgentSessions,
            Attribute::WebACDPrefsIsAgent,
        ),
        (
            Attribute::WebACDPrefsAgentMonitorAllRSQueues,
            Attribute::WebACDPrefsIsAgent,
        ),
        (
            Attribute::WebACDPrefsManagerMonitorAllRSQueues,
            Attribute::WebACDPrefsIsMgr,
        ),
        (
            Attribute::WebACDPrefsMonitorAllRSAgents,
            Attribute::WebACDPrefsIsMgr,
        ),
    ];
    for (setting, role) in needs {
        if let Some(v) = get(setting).filter(|v| is_set(v))
            && off(role)
        {
            out.push(violation(
                FlatKey::new(setting),
                Some(v),
                Rule::WebAcd,
                format!("needs {}=true", role.name()),
                format!(
                    "set {}=true or leave {} at its default",
                    role.name(),
                    setting.name()
                ),
            ));
        }
    }
}

/// Licence counts, when the profile has them: a pure function of the counts.
fn licences(
    change: &Change<'_>,
    operation: Operation,
    profile: &SiteProfile,
    out: &mut Vec<Violation>,
) {
    let Some(limits) = &profile.limits else {
        return;
    };
    let active = change.get(Attribute::Active);
    let activates = match operation {
        Operation::Create => !matches!(active, Some(Value::Text(a)) if a == "DEACTIVATED"),
        Operation::Update => matches!(active, Some(Value::Text(a)) if a == "ACTIVATED"),
    };
    if activates
        && let (Some(limit), Some(current)) = (limits.site_hosts, limits.current_site_hosts)
        && current >= limit
    {
        out.push(violation(
            FlatKey::new(Attribute::Active),
            active,
            Rule::LicenceLimit,
            format!(
                "the site has {current} of {limit} host licences in use (exceededSiteHostLimit)"
            ),
            "free a host licence (deactivate a user) or raise the site's limit",
        ));
    }
    if operation == Operation::Create
        && let Some(v @ Value::IntList(ids)) = change.get(Attribute::MeetingTypes)
    {
        for id in ids {
            let Some(l) = limits.session_types.iter().find(|l| l.id == *id) else {
                continue;
            };
            if l.current_hosts.is_some_and(|c| c >= l.hosts) {
                out.push(violation(
                    FlatKey::new(Attribute::MeetingTypes),
                    Some(v),
                    Rule::LicenceLimit,
                    format!(
                        "User limit exceeded for Session Type {id}: {} of {} in use",
                        l.current_hosts.unwrap_or_default(),
                        l.hosts
                    ),
                    "free a licence of that session type or leave it out",
                ));
            }
        }
    }
}

/// Attribute sets the rules need, read from the catalogue once.
struct CatalogueSets {
    /// `supportedServices/*`: explicit when meetingTypes are set.
    supported_services: Vec<Attribute>,
    /// `…/accountIndex` of every repeated group.
    account_indexes: Vec<Attribute>,
}

fn catalogue_sets() -> &'static CatalogueSets {
    static SETS: std::sync::OnceLock<CatalogueSets> = std::sync::OnceLock::new();
    SETS.get_or_init(|| CatalogueSets {
        supported_services: ATTRIBUTES
            .iter()
            .filter(|a| a.segments[0].name == "supportedServices" && a.ops.create)
            .map(|a| a.attribute)
            .collect(),
        account_indexes: ATTRIBUTES
            .iter()
            .filter(|a| {
                a.repeat.is_some() && a.segments.last().is_some_and(|s| s.name == "accountIndex")
            })
            .map(|a| a.attribute)
            .collect(),
    })
}
