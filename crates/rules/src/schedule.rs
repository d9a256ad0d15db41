//! When a rule is in force: local-time windows such as `"10:00-19:00"`, `"mon-fri 07:30-09:30"`,
//! `"sat,sun 22:00-06:00"` (a window ending before it starts runs past midnight).

/// Local civil time, as the schedule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight.
    pub minute: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    /// Bit d set = the window may start on weekday d.
    days: u8,
    start: u16,
    end: u16,
}

/// An empty schedule means "always".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    windows: Vec<Window>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_day(s: &str) -> Result<u8, String> {
    let l = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| l.starts_with(d))
        .map(|i| i as u8)
        .ok_or_else(|| format!("unknown day \"{s}\" (use mon, tue, wed, thu, fri, sat, sun)"))
}

fn parse_days(s: &str) -> Result<u8, String> {
    let mut mask = 0u8;
    for part in s.split(',') {
        let part = part.trim();
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (parse_day(a)?, parse_day(b)?);
            let mut d = a;
            loop {
                mask |= 1 << d;
                if d == b {
                    break;
                }
                d = (d + 1) % 7;
            }
        } else {
            mask |= 1 << parse_day(part)?;
        }
    }
    Ok(mask)
}

fn parse_hm(s: &str) -> Result<u16, String> {
    let (h, m) = s.trim().split_once(':').ok_or_else(|| format!("\"{s}\" is not a time like 10:00"))?;
    let h: u16 = h.parse().map_err(|_| format!("\"{s}\" is not a time like 10:00"))?;
    let m: u16 = m.parse().map_err(|_| format!("\"{s}\" is not a time like 10:00"))?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(format!("\"{s}\" is not a valid time of day (00:00 to 24:00)"));
    }
    Ok(h * 60 + m)
}

impl Schedule {
    /// Parses the entries of a rule's `schedule` list; the error names the entry at fault.
    pub fn parse(entries: &[String]) -> Result<Schedule, String> {
        let mut windows = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let w = Self::parse_entry(e).map_err(|m| format!("entry {} \"{e}\": {m}", i + 1))?;
            windows.push(w);
        }
        Ok(Schedule { windows })
    }

    fn parse_entry(e: &str) -> Result<Window, String> {
        // Accept the en dash people type in documents ("10:00–19:00").
        let e = e.replace(['–', '—'], "-");
        let e = e.trim();
        let (days, times) = match e.rsplit_once(char::is_whitespace) {
            Some((d, t)) => (parse_days(d)?, t),
            None => (0x7F, e),
        };
        let (a, b) = times.split_once('-').ok_or_else(|| "expected a window like 10:00-19:00".to_string())?;
        let (start, end) = (parse_hm(a)?, parse_hm(b)?);
        if start == end {
            return Err("window is empty (start equals end)".into());
        }
        Ok(Window { days, start, end })
    }

    pub fn is_always(&self) -> bool {
        self.windows.is_empty()
    }

    pub fn is_active(&self, t: LocalTime) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let yesterday = (t.weekday + 6) % 7;
        self.windows.iter().any(|w| {
            if w.start < w.end {
                w.days & (1 << t.weekday) != 0 && t.minute >= w.start && t.minute < w.end
            } else {
                (w.days & (1 << t.weekday) != 0 && t.minute >= w.start)
                    || (w.days & (1 << yesterday) != 0 && t.minute < w.end)
            }
        })
    }
}

/// Local time of `now` in `tz`.
pub fn local_time(now: std::time::SystemTime, tz: &jiff::tz::TimeZone) -> LocalTime {
    let ts = jiff::Timestamp::try_from(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = ts.to_zoned(tz.clone()).datetime();
    LocalTime {
        weekday: dt.weekday().to_monday_zero_offset() as u8,
        minute: dt.hour() as u16 * 60 + dt.minute() as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(weekday: u8, h: u16, m: u16) -> LocalTime {
        LocalTime { weekday, minute: h * 60 + m }
    }

    #[test]
    fn daily_window_edges() {
        let s = Schedule::parse(&["10:00–19:00".into()]).unwrap();
        assert!(!s.is_active(at(2, 9, 59)));
        assert!(s.is_active(at(2, 10, 0)));
        assert!(s.is_active(at(6, 18, 59)));
        assert!(!s.is_active(at(2, 19, 0)), "end is exclusive");
    }

    #[test]
    fn days_and_overnight_windows() {
        let s = Schedule::parse(&["mon-fri 07:30-09:30".into(), "sat,sun 22:00-06:00".into()]).unwrap();
        assert!(s.is_active(at(0, 8, 0)));
        assert!(!s.is_active(at(5, 8, 0)), "Saturday morning is not a weekday window");
        assert!(s.is_active(at(5, 23, 0)));
        assert!(s.is_active(at(6, 5, 59)), "Saturday night runs into Sunday");
        assert!(s.is_active(at(0, 5, 0)), "Sunday night runs into Monday");
        assert!(!s.is_active(at(4, 23, 0)), "Friday night is not in the weekend window");
        let wrap = Schedule::parse(&["fri-mon 12:00-13:00".into()]).unwrap();
        assert!(wrap.is_active(at(6, 12, 30)) && wrap.is_active(at(0, 12, 30)) && !wrap.is_active(at(2, 12, 30)));
    }

    #[test]
    fn empty_is_always_and_errors_name_the_entry() {
        assert!(Schedule::parse(&[]).unwrap().is_active(at(3, 3, 3)));
        let e = Schedule::parse(&["10:00-19:00".into(), "25:00-26:00".into()]).unwrap_err();
        assert!(e.starts_with("entry 2 \"25:00-26:00\""), "{e}");
        assert!(Schedule::parse(&["caturday 10:00-11:00".into()]).unwrap_err().contains("unknown day"));
        assert!(Schedule::parse(&["10:00".into()]).is_err());
        assert!(Schedule::parse(&["10:00-10:00".into()]).unwrap_err().contains("empty"));
    }

    #[test]
    fn local_time_follows_daylight_saving() {
        let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        // 2024-07-01 (a Monday) 08:00 UTC is 10:00 in Paris (CEST, UTC+2).
        let summer = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_719_820_800);
        assert_eq!(local_time(summer, &tz), at(0, 10, 0));
        // 2024-01-15 (a Monday) 08:00 UTC is 09:00 in Paris (CET, UTC+1).
        let winter = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_705_305_600);
        assert_eq!(local_time(winter, &tz), at(0, 9, 0));
    }
}
