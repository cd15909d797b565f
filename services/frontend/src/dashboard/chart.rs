//! One panel's graph as SVG, drawn by plotters: a line per series over the page's time range,
//! the y axis in the panel's unit.

use plotters::prelude::*;

use super::prometheus::{Range, Series};

/// The graph's size in SVG pixels (the page scales it to its column).
pub const SIZE: (u32, u32) = (640, 260);

/// The color of the `index`th series, as plotters draws it and as the legend's swatch shows it.
pub fn color(index: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(index).to_rgba().rgb();
    RGBColor(r, g, b)
}

/// `#rrggbb` of [`color`].
pub fn hex(index: usize) -> String {
    let RGBColor(r, g, b) = color(index);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The graph of `series` (already non-empty) over `range`, in `unit`.
pub fn svg(series: &[Series], unit: &str, range: Range) -> Result<String, String> {
    let mut out = String::new();
    draw(&mut out, series, unit, range).map_err(|err| format!("drawing the graph: {err}"))?;
    Ok(out)
}

fn draw(
    out: &mut String,
    series: &[Series],
    unit: &str,
    range: Range,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(_, v)| *v))
        .fold(0.0_f64, f64::max);
    let bottom = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(_, v)| *v))
        .fold(0.0_f64, f64::min);
    // A flat zero line still gets an axis; otherwise 10 % headroom above the highest point.
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    // The graph starts at the first sample when the range reaches back before any (a stack that
    // started a minute ago fills the width instead of its last thirtieth).
    let first = series
        .iter()
        .filter_map(|s| s.points.first().map(|(t, _)| *t))
        .fold(range.end, f64::min);
    let start = first.clamp(range.start, range.end - range.step);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(26)
        .y_label_area_size(70)
        .build_cartesian_2d(start..range.end, bottom..top)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|t| {
            if range.end - start < 600.0 {
                clock_with_seconds(*t)
            } else {
                clock(*t)
            }
        })
        .y_label_formatter(&|v| format_value(*v, unit))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .label_style(("sans-serif", 15))
        .draw()?;
    for (index, one) in series.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            one.points.iter().copied(),
            color(index).stroke_width(2),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// `HH:MM` (UTC) of a unix time.
pub fn clock(unix_seconds: f64) -> String {
    let minutes_of_day = (unix_seconds.max(0.0) as u64 / 60) % (24 * 60);
    format!("{:02}:{:02}", minutes_of_day / 60, minutes_of_day % 60)
}

/// `HH:MM:SS` (UTC) of a unix time, for graphs of a few minutes.
pub fn clock_with_seconds(unix_seconds: f64) -> String {
    let seconds = unix_seconds.max(0.0) as u64;
    format!("{}:{:02}", clock(unix_seconds), seconds % 60)
}

/// A value in a Grafana unit, short enough for an axis label.
pub fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "percentunit" => format!("{:.1}%", value * 100.0),
        "s" if value != 0.0 && value.abs() < 1.0 => format!("{} ms", trim(value * 1000.0)),
        "s" => format!("{} s", trim(value)),
        "reqps" | "ops" => format!("{}/s", si(value)),
        "bytes" => binary(value),
        "cores" => trim(value),
        _ => si(value),
    }
}

/// At most three significant decimals, no trailing zeros.
fn trim(value: f64) -> String {
    let text = if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn si(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{}G", trim(value / 1e9))
    } else if magnitude >= 1e6 {
        format!("{}M", trim(value / 1e6))
    } else if magnitude >= 1e3 {
        format!("{}k", trim(value / 1e3))
    } else {
        trim(value)
    }
}

fn binary(value: f64) -> String {
    let mut scaled = value;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if scaled.abs() < 1024.0 {
            return format!("{} {unit}", trim(scaled));
        }
        scaled /= 1024.0;
    }
    format!("{} TiB", trim(scaled))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn values_read_in_their_unit() {
        assert_eq!(format_value(0.0123, "s"), "12.3 ms");
        assert_eq!(format_value(2.5, "s"), "2.5 s");
        assert_eq!(format_value(0.05, "percentunit"), "5.0%");
        assert_eq!(format_value(1500.0, "reqps"), "1.5k/s");
        assert_eq!(format_value(18.0 * 1024.0 * 1024.0, "bytes"), "18 MiB");
        assert_eq!(format_value(3.0, "short"), "3");
        assert_eq!(clock(86_400.0 + 3_600.0 * 13.0 + 60.0 * 7.0 + 5.0), "13:07");
        assert_eq!(
            clock_with_seconds(86_400.0 + 3_600.0 * 13.0 + 60.0 * 7.0 + 5.0),
            "13:07:05"
        );
    }

    #[test]
    fn a_graph_has_one_line_per_series_in_the_legend_colors() {
        let series: Vec<Series> = (0..2)
            .map(|n| Series {
                labels: BTreeMap::from([("job".to_owned(), format!("job{n}"))]),
                points: (0..10)
                    .map(|t| (f64::from(t) * 10.0, f64::from(t * n)))
                    .collect(),
            })
            .collect();
        let range = Range {
            start: 0.0,
            end: 90.0,
            step: 10.0,
        };
        let svg = svg(&series, "reqps", range).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        // The axes are 1 px wide; each series is one 2 px line in its legend color.
        for index in 0..2 {
            let line = format!(
                "stroke=\"{}\" stroke-width=\"2\"",
                hex(index).to_uppercase()
            );
            assert_eq!(
                svg.matches(&line).count(),
                1,
                "series {index}: {line} in {svg}"
            );
        }
        assert!(
            svg.contains("\n2/s\n</text>"),
            "the y axis is labelled in the unit"
        );
    }
}
