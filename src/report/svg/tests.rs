//! Axes, numbers and charts of the SVG writer.

use super::*;

#[test]
fn nice_axes_cover_the_data() {
    let a = Axis::nice(87.0, 0.0, 100.0);
    assert_eq!((a.step, a.max), (20.0, 100.0));
    let a = Axis::nice(0.0, 0.0, 100.0);
    assert_eq!(a.max, 1.0);
    assert_eq!(Axis::nice(4.2, 0.0, 1.0).step, 1.0);
}

#[test]
fn log_axes_tick_whole_decades() {
    let a = Axis::logarithmic(1.0, 650.0, 0.0, 300.0);
    assert_eq!((a.min, a.max), (1.0, 1000.0));
    assert_eq!(a.ticks(), vec![1.0, 10.0, 100.0, 1000.0]);
    assert!((a.px(10.0) - 100.0).abs() < 1e-9 && (a.px(100.0) - 200.0).abs() < 1e-9);
    // Bounds at 1, 2 or 5 × 10^k around the data: 80–560 ms is 50–1000, ticked 1-2-5.
    let a = Axis::logarithmic(80.0, 560.0, 0.0, 300.0);
    assert_eq!((a.min, a.max), (50.0, 1000.0));
    assert_eq!(a.ticks(), vec![50.0, 100.0, 200.0, 500.0, 1000.0]);
    assert!(spans_decade([8.0, 650.0].into_iter()));
    assert!(!spans_decade([80.0, 650.0].into_iter()));
}

#[test]
fn percentile_ticks_read_as_nines() {
    assert_eq!(percentile_tick(0.0), "0%");
    assert_eq!(percentile_tick(2.0), "99%");
    assert_eq!(percentile_tick(3.0), "99.9%");
    assert!((percentile_x(0.99) - 2.0).abs() < 1e-9);
}

#[test]
fn short_numbers() {
    assert_eq!(short_number(12.0), "12");
    assert_eq!(short_number(2.5), "2.5");
    assert_eq!(short_number(0.125), "0.125");
    assert_eq!(short_number(1200.0), "1.2k");
    assert_eq!(short_number(25_000.0), "25k");
}

#[test]
fn chart_counts_its_points_and_propagates_write_errors() {
    let series = [Series {
        name: "a<b".into(),
        color: 0,
        dashed: false,
        markers: true,
        line: true,
        points: vec![(1.0, 2.0), (2.0, f64::NAN), (3.0, 4.0)],
        labels: vec!["one".into(), "two".into()],
        point_labels: true,
        hollow: false,
    }];
    let chart = Chart {
        title: "t",
        x_label: "x",
        y_label: "y",
        x_scale: XScale::Linear,
        width: 300,
        height: 200,
        series: &series,
        rules: &[],
        legend: true,
        y_log: false,
    };
    let mut out = Vec::new();
    line_chart(&chart, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(r#"data-points="2""#), "{text}");
    assert!(text.contains("a&lt;b"));
    assert!(
        text.contains("<title>one: 1, 2</title>") && text.contains("<title>a&lt;b: 3, 4</title>"),
        "{text}"
    );
    assert!(
        text.contains(r#"class="point-label""#) && text.contains(">one</text>"),
        "{text}"
    );
    let mut full = [0u8; 64];
    assert!(line_chart(&chart, &mut &mut full[..]).is_err());
}
