//! The report's charts, drawn as inline SVG on the server: compliance by ISO week per
//! category (one line each), and the distribution of first-response times (bars). Pure
//! functions from numbers to markup; hand-drawn, which is lighter than a charting crate for
//! two charts. Each chart carries a `<title>` and a `<desc>` for screen readers, and the
//! page shows the same numbers in a table beside it.

use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// One line of the week chart: its name, colour, dash pattern, and a value (0–100) or a gap
/// per week.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub dash: &'a str,
    pub values: Vec<Option<f64>>,
}

/// Compliance (%) by week: `weeks` label the x axis, each series is one category.
pub fn weekly_lines(title: &str, weeks: &[String], series: &[Series]) -> String {
    let mut svg = open(title, "weeks");
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#c8c8c8"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{tick}%</text>"##,
            WIDTH - RIGHT,
            y(tick),
            y(tick),
            LEFT - 4.0,
            y(tick) + 4.0
        );
    }
    let step = if weeks.len() > 1 {
        plot_w / (weeks.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| {
        if weeks.len() > 1 {
            LEFT + step * i as f64
        } else {
            LEFT + plot_w / 2.0
        }
    };
    // Label at most about ten weeks, evenly.
    let every = weeks.len().div_ceil(10).max(1);
    for (i, week) in weeks.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
            x(i),
            HEIGHT - BOTTOM + 16.0,
            escape(week.split_once('-').map_or(week, |(_, w)| w))
        );
    }
    for s in series {
        // A gap (a week without any decided first response) breaks the line.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => runs.last_mut().expect("one run").push((x(i), y(*v))),
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let points: Vec<String> = run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{}" stroke-width="2.5" stroke-dasharray="{}" points="{}"/>"#,
                s.colour,
                s.dash,
                points.join(" ")
            );
            for (a, b) in run {
                let _ = write!(
                    svg,
                    r#"<circle cx="{a:.1}" cy="{b:.1}" r="3.5" fill="{}"/>"#,
                    s.colour
                );
            }
        }
    }
    // The legend, under the axis.
    let mut lx = LEFT;
    for s in series {
        let _ = write!(
            svg,
            r#"<line x1="{lx:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2.5" stroke-dasharray="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            lx + 22.0,
            HEIGHT - 8.0,
            HEIGHT - 8.0,
            s.colour,
            s.dash,
            lx + 26.0,
            HEIGHT - 4.0,
            escape(s.name)
        );
        lx += 40.0 + 7.0 * s.name.chars().count() as f64;
    }
    svg.push_str("</svg>");
    svg
}

/// Bars: one per bucket, its count written above it.
pub fn bars(title: &str, buckets: &[(String, u64)]) -> String {
    let mut svg = open(title, "bars");
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = buckets.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let slot = plot_w / buckets.len().max(1) as f64;
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#555"/>"##,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    for (i, (label, n)) in buckets.iter().enumerate() {
        let h = plot_h * (*n as f64) / max;
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#0b5cad"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{n}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
            TOP + plot_h - h,
            slot * 0.7,
            x + slot * 0.35,
            TOP + plot_h - h - 4.0,
            x + slot * 0.35,
            HEIGHT - BOTTOM + 16.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(title: &str, id: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-{id}" class="chart"><title id="chart-{id}">{}</title>"#,
        escape(title)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_drawn_per_category_and_breaks_at_a_week_without_data() {
        let weeks = vec!["2026-W46".to_owned(), "2026-W47".into(), "2026-W48".into()];
        let svg = weekly_lines(
            "Compliance <by week>",
            &weeks,
            &[
                Series {
                    name: "Urgent",
                    colour: "#b00020",
                    dash: "none",
                    values: vec![Some(100.0), None, Some(50.0)],
                },
                Series {
                    name: "Info",
                    colour: "#0b5cad",
                    dash: "6 3",
                    values: vec![Some(0.0), Some(25.0), Some(75.0)],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"chart-weeks\">Compliance &lt;by week&gt;</title>"));
        // Urgent: two single points (the gap breaks it); info: one line of three points.
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("<circle").count(), 5);
        // 100 % sits at the top of the plot, 0 % at its bottom.
        assert!(svg.contains(&format!("cy=\"{TOP:.1}\"")));
        assert!(svg.contains(&format!("cy=\"{:.1}\"", HEIGHT - BOTTOM)));
        assert!(svg.contains(">W47<"));
    }

    #[test]
    fn the_tallest_bar_fills_the_plot_and_each_shows_its_count() {
        let svg = bars(
            "d",
            &[
                ("< 1 h".into(), 4),
                ("1–4 h".into(), 2),
                ("≥ 48 h".into(), 0),
            ],
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains(&format!("height=\"{:.1}\"", HEIGHT - TOP - BOTTOM)));
        assert!(svg.contains(">4</text>") && svg.contains(">0</text>"));
        assert!(svg.contains("&lt; 1 h"));
    }
}
