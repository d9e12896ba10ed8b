//! Plots with `plotters`, each as SVG and PNG: latency CDF, delivery over time,
//! copies-per-delivery histogram, and sweep charts.
//!
//! Text is laid out with an embedded DejaVu Sans Mono (assets/, Bitstream Vera licence,
//! see `assets/DejaVu-LICENSE.txt`), so PNGs carry labels without system fonts and the
//! output does not depend on the machine.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::Error;
use crate::results::{CdfPoint, RunResult};

/// Plot size in pixels.
const WIDTH: u32 = 900;
/// Plot height in pixels.
const HEIGHT: u32 = 560;
/// The embedded font.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
/// Font family name the plots use.
const FAMILY: &str = "sans-serif";
/// Line colours, in series order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font is a compile-time constant known to parse; a failure would only
        // lose text, which the drawing calls then report as errors.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// One named line of `(x, y)` points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, f64)>,
}

/// Axis labels and title of a chart.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    /// Title.
    pub title: &'a str,
    /// X axis.
    pub x: &'a str,
    /// Y axis.
    pub y: &'a str,
}

fn err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn range(points: impl Iterator<Item = f64>, pad_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in points.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if pad_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    (lo, hi + (hi - lo) * 0.05)
}

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    series: &[Series],
    y_range: Option<(f64, f64)>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (x0, x1) = range(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        false,
    );
    let (y0, y1) = y_range.unwrap_or_else(|| {
        range(
            series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
            true,
        )
    });
    let mut chart = ChartBuilder::on(&root)
        .caption(labels.title, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        if s.points.len() <= 40 {
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    if series.len() > 1 || series.first().is_some_and(|s| !s.name.is_empty()) {
        chart
            .configure_series_labels()
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    bars: &[(u32, f64)],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let x1 = bars.iter().map(|b| b.0).max().unwrap_or(1) + 1;
    let y1 = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9) * 1.08;
    let mut chart = ChartBuilder::on(&root)
        .caption(labels.title, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(70)
        .build_cartesian_2d(0u32..x1, 0f64..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().map(|&(x, y)| {
            let mut r = Rectangle::new([(x, 0.0), (x + 1, y)], PALETTE[0].filled());
            r.set_margin(0, 0, 2, 2);
            r
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Draws a line chart to `<stem>.svg` and `<stem>.png`.
pub fn line_chart(
    stem: &Path,
    labels: &Labels<'_>,
    series: &[Series],
    y_range: Option<(f64, f64)>,
) -> Result<Vec<PathBuf>, Error> {
    register_font();
    let svg = stem.with_extension("svg");
    draw_lines(
        SVGBackend::new(&svg, (WIDTH, HEIGHT)).into_drawing_area(),
        labels,
        series,
        y_range,
    )
    .map_err(|e| err(&svg, e))?;
    let png = stem.with_extension("png");
    draw_lines(
        BitMapBackend::new(&png, (WIDTH, HEIGHT)).into_drawing_area(),
        labels,
        series,
        y_range,
    )
    .map_err(|e| err(&png, e))?;
    Ok(vec![svg, png])
}

/// Draws a bar chart (`(x, height)` bars) to `<stem>.svg` and `<stem>.png`.
pub fn bar_chart(
    stem: &Path,
    labels: &Labels<'_>,
    bars: &[(u32, f64)],
) -> Result<Vec<PathBuf>, Error> {
    register_font();
    let svg = stem.with_extension("svg");
    draw_bars(
        SVGBackend::new(&svg, (WIDTH, HEIGHT)).into_drawing_area(),
        labels,
        bars,
    )
    .map_err(|e| err(&svg, e))?;
    let png = stem.with_extension("png");
    draw_bars(
        BitMapBackend::new(&png, (WIDTH, HEIGHT)).into_drawing_area(),
        labels,
        bars,
    )
    .map_err(|e| err(&png, e))?;
    Ok(vec![svg, png])
}

/// The plots of one run.
pub fn run_plots(dir: &Path, result: &RunResult, cdf: &[CdfPoint]) -> Result<Vec<PathBuf>, Error> {
    let s = &result.summary;
    let mut out = Vec::new();
    let title = format!(
        "{} (seed {}): first-receipt latency CDF",
        s.scenario, s.seed
    );
    out.extend(line_chart(
        &dir.join("latency_cdf"),
        &Labels {
            title: &title,
            x: "latency (ms)",
            y: "fraction of deliveries",
        },
        &[Series {
            name: String::new(),
            points: cdf.iter().map(|p| (p.latency_ms, p.fraction)).collect(),
        }],
        Some((0.0, 1.02)),
    )?);
    let title = format!("{} (seed {}): delivery over time", s.scenario, s.seed);
    let nodes = s.nodes.max(1) as f64;
    out.extend(line_chart(
        &dir.join("delivery_over_time"),
        &Labels {
            title: &title,
            x: "time (s)",
            y: "ratio",
        },
        &[
            Series {
                name: "cumulative delivery ratio".into(),
                points: result
                    .series
                    .iter()
                    .filter(|b| b.t_s >= 0.0)
                    .map(|b| (b.t_s, b.delivery_ratio_cum))
                    .collect(),
            },
            Series {
                name: "nodes online".into(),
                points: result
                    .series
                    .iter()
                    .filter(|b| b.online > 0)
                    .map(|b| (b.t_s, b.online as f64 / nodes))
                    .collect(),
            },
        ],
        Some((0.0, 1.05)),
    )?);
    let total: u64 = result.copies.iter().sum();
    let bars: Vec<(u32, f64)> = result
        .copies
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(k, &c)| (k as u32, c as f64 / total.max(1) as f64))
        .collect();
    let title = format!(
        "{} (seed {}): copies per (member, message), mean {:.2}",
        s.scenario, s.seed, s.copies_per_delivery
    );
    out.extend(bar_chart(
        &dir.join("duplicates_hist"),
        &Labels {
            title: &title,
            x: "copies received",
            y: "fraction of (member, message) pairs",
        },
        &bars,
    )?);
    Ok(out)
}

/// Sybil admission vs attack edges, and ranking quality vs attack edges.
pub fn trust_plots(
    dir: &Path,
    s: &crate::metrics::Summary,
    reports: &[qun_trust::eval::SybilReport],
) -> Result<Vec<PathBuf>, Error> {
    let x = |f: fn(&qun_trust::eval::SybilReport) -> f64| -> Vec<(f64, f64)> {
        reports
            .iter()
            .map(|r| (r.attack_edges as f64, f(r)))
            .collect()
    };
    let mut out = Vec::new();
    let title = format!(
        "{} (seed {}): Sybils admitted vs attack edges",
        s.scenario, s.seed
    );
    out.extend(line_chart(
        &dir.join("sybil_admission"),
        &Labels {
            title: &title,
            x: "attack edges",
            y: "Sybils admitted",
        },
        &[
            Series {
                name: "Sybils admitted".into(),
                points: x(|r| r.sybils_admitted as f64),
            },
            Series {
                name: "capacity bound".into(),
                points: x(|r| r.admission_bound as f64),
            },
        ],
        None,
    )?);
    let title = format!(
        "{} (seed {}): ranking and admission quality",
        s.scenario, s.seed
    );
    out.extend(line_chart(
        &dir.join("trust_quality"),
        &Labels {
            title: &title,
            x: "attack edges",
            y: "ratio",
        },
        &[
            Series {
                name: "honest acceptance".into(),
                points: x(|r| r.honest_acceptance),
            },
            Series {
                name: "AUC".into(),
                points: x(|r| r.auc),
            },
            Series {
                name: "Sybil score mass".into(),
                points: x(|r| r.sybil_mass),
            },
        ],
        Some((0.0, 1.05)),
    )?);
    Ok(out)
}
