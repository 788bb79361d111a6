//! UTC dates without a date library: what the simulator's registrationDate,
//! the SCIM front's timestamps and token-expiry dates need.

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

#[cfg(all(test, feature = "sim", feature = "scim"))]
mod tests {
    use super::Utc;

    #[test]
    fn dates_from_seconds() {
        // 2027-11-01T00:00:00Z is 1_825_027_200 (the CLI's `midnight` checks the inverse).
        let back = Utc::at(1_825_027_200 + 3661);
        assert_eq!(back.rfc3339(), "2027-11-01T01:01:01Z");
        assert_eq!(back.webex(), "11/01/2027 01:01:01");
        assert_eq!(Utc::at(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
    }
}
