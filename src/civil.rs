//! UTC dates without a date library: what the simulator's registrationDate,
//! the SCIM front's timestamps and token-expiry dates need.

#[cfg(feature = "cli")]
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC date and time, to the second.
#[cfg(any(feature = "sim", feature = "scim", feature = "sync"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
}

#[cfg(any(feature = "sim", feature = "scim", feature = "sync"))]
impl Utc {
    pub fn now() -> Utc {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        Utc::at(secs)
    }

    /// The date of `secs` seconds after 1970-01-01 (Howard Hinnant's civil-from-days).
    pub fn at(secs: u64) -> Utc {
        let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day: doy - (153 * mp + 2) / 5 + 1,
            hour: rest / 3600,
            minute: rest % 3600 / 60,
            second: rest % 60,
        }
    }

    /// RFC 3339: `2026-11-23T15:01:07Z`.
    #[cfg(any(feature = "scim", feature = "sync"))]
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// The XML API's form: `11/23/2026 15:01:07`.
    #[cfg(feature = "sim")]
    pub fn webex(&self) -> String {
        format!(
            "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
            self.month, self.day, self.year, self.hour, self.minute, self.second
        )
    }
}

/// Midnight UTC of a date (civil-to-days, the inverse of `Utc::at`).
#[cfg(feature = "cli")]
pub(crate) fn midnight(year: i64, month: i64, day: i64) -> Option<SystemTime> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(all(test, feature = "sim", feature = "scim", feature = "cli"))]
mod tests {
    use super::{Utc, midnight};

    #[test]
    fn dates_both_ways() {
        let t = midnight(2027, 11, 1).unwrap();
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_825_027_200);
        let back = Utc::at(secs + 3661);
        assert_eq!(back.rfc3339(), "2027-11-01T01:01:01Z");
        assert_eq!(back.webex(), "11/01/2027 01:01:01");
        assert_eq!(Utc::at(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        assert!(midnight(2027, 13, 1).is_none());
    }
}
