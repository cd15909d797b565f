//! The median and range of a benchmark's alternating rounds: how every figure is reported.

/// The median and range of a few measurements.
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl Iterator<Item = f64>) -> Option<Self> {
        let mut values: Vec<f64> = values.collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let middle = values.len() / 2;
        let median = if values.len() % 2 == 1 {
            values[middle]
        } else {
            (values[middle - 1] + values[middle]) / 2.0
        };
        Some(Self {
            median,
            min: values[0],
            max: values[values.len() - 1],
        })
    }
}

pub trait Show {
    fn show(&self, decimals: usize, unit: &str) -> String;
}

impl Show for Option<Spread> {
    fn show(&self, decimals: usize, unit: &str) -> String {
        match self {
            None => "–".to_owned(),
            Some(s) if s.min == s.max => format!("{:.decimals$}{unit}", s.median),
            Some(s) => format!(
                "{:.decimals$}{unit} [{:.decimals$}–{:.decimals$}]",
                s.median, s.min, s.max
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_is_the_median_and_the_range() {
        let odd = Spread::of([3.0, 1.0, 2.0].into_iter()).map(|s| (s.median, s.min, s.max));
        assert_eq!(odd, Some((2.0, 1.0, 3.0)));
        let even = Spread::of([4.0, 1.0, 2.0, 3.0].into_iter()).map(|s| s.median);
        assert_eq!(even, Some(2.5));
        assert!(Spread::of(std::iter::empty()).is_none());
        assert_eq!(Spread::of([5.0].into_iter()).show(1, "×"), "5.0×");
        assert_eq!(Spread::of([1.0, 3.0].into_iter()).show(0, ""), "2 [1–3]");
    }
}
