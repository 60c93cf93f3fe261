//! Periods named in a query ("on 9 November, 2022", "in June 2022", "in July", "in 2023"), to prefer memories
//! created in them.
//!
//! Recognized, in English, in this order of precedence (the first kind found is used, every match of it):
//! 1. a day: `9 November 2022`, `9th November, 2022`, `November 9, 2022`, `Nov 9th 2022` (day, month, year);
//! 2. a month of a year: `November 2022`, `Nov, 2022`;
//! 3. a month of any year: a capitalized month name alone (`in July`), except `May` (a verb as often as a month);
//! 4. a year: `2022` (1900 to 2099).
//!
//! Days are calendar days in UTC. Relative expressions ("last week", "yesterday") are not recognized: a query carries
//! no time of its own to resolve them against.

/// A period a query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    /// One day: year, month (1-12), day (1-31).
    Day(i64, u32, u32),
    /// A month of a year.
    Month(i64, u32),
    /// A month of any year.
    MonthOfAnyYear(u32),
    /// A year.
    Year(i64),
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    let short = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    MONTHS
        .iter()
        .position(|m| *m == w)
        .or_else(|| short.iter().position(|m| *m == w))
        .or_else(|| (w == "sept").then_some(8))
        .map(|i| i as u32 + 1)
}

fn day(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !(suffix.is_empty() || ["st", "nd", "rd", "th"].contains(&suffix.to_lowercase().as_str())) {
        return None;
    }
    (digits.len() <= 2)
        .then(|| digits.parse().ok())
        .flatten()
        .filter(|d| (1..=31).contains(d))
}

fn year(word: &str) -> Option<i64> {
    (word.len() == 4)
        .then(|| word.parse().ok())
        .flatten()
        .filter(|y| (1900..=2099).contains(y))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The periods `text` names (empty when none).
pub(crate) fn periods(text: &str) -> Vec<Period> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let at = |i: usize| words.get(i).copied().unwrap_or("");
    let (mut days, mut months, mut bare, mut years) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..words.len() {
        let w = at(i);
        if let (Some(d), Some(m), Some(y)) = (day(w), month(at(i + 1)), year(at(i + 2))) {
            days.push((y, m, d));
        }
        if let Some(m) = month(w) {
            if let (Some(d), Some(y)) = (day(at(i + 1)), year(at(i + 2))) {
                days.push((y, m, d));
            } else if let Some(y) = year(at(i + 1)) {
                months.push(Period::Month(y, m));
            } else if w.len() > 3 && m != 5 && w.starts_with(|c: char| c.is_uppercase()) {
                bare.push(Period::MonthOfAnyYear(m));
            }
        }
        if let Some(y) = year(w) {
            years.push(Period::Year(y));
        }
    }
    let days: Vec<Period> = days
        .into_iter()
        .filter(|(y, m, d)| *d <= days_in_month(*y, *m))
        .map(|(y, m, d)| Period::Day(y, m, d))
        .collect();
    [days, months, bare, years]
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// The UTC calendar date (year, month, day) of a time in milliseconds since the epoch.
fn civil(ms: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm.
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Whether a time (ms since the epoch) falls in one of `periods`.
pub(crate) fn within(periods: &[Period], ms: i64) -> bool {
    let (y, m, d) = civil(ms);
    periods.iter().any(|p| match *p {
        Period::Day(py, pm, pd) => (py, pm, pd) == (y, m, d),
        Period::Month(py, pm) => (py, pm) == (y, m),
        Period::MonthOfAnyYear(pm) => pm == m,
        Period::Year(py) => py == y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_days_months_and_years() {
        use Period::*;
        assert_eq!(
            periods("What did Nate make on 9 November, 2022?"),
            [Day(2022, 11, 9)]
        );
        assert_eq!(
            periods("the painting shown on October 13, 2023"),
            [Day(2023, 10, 13)]
        );
        assert_eq!(
            periods("finish reading on 8th December, 2023?"),
            [Day(2023, 12, 8)]
        );
        assert_eq!(
            periods("What event is Nate organizing in June 2022?"),
            [Month(2022, 6)]
        );
        assert_eq!(
            periods("When did Melanie go camping in June?"),
            [MonthOfAnyYear(6)]
        );
        assert_eq!(periods("May I ask what you did in 2023"), [Year(2023)]);
        assert_eq!(periods("soldiers march in step"), []);
        assert_eq!(periods("on 31 February 2023"), [Month(2023, 2)]);
        assert!(periods("What did Caroline research?").is_empty());
    }

    #[test]
    fn civil_dates_in_utc() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(1_683_554_160_000), (2023, 5, 8));
        assert_eq!(civil(951_782_400_000), (2000, 2, 29));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert!(within(&[Period::Month(2023, 5)], 1_683_554_160_000));
        assert!(!within(&[Period::Day(2023, 5, 9)], 1_683_554_160_000));
    }
}
