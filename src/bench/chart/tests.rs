//! The charts read back: the SVG is well-formed XML, has its axis labels, one bar per measured
//! series and group, and places values monotonically (a larger throughput is a taller bar, a
//! larger latency a higher point, a higher percentile a point further right).

use std::collections::HashMap;

use super::input::{Input, chart_of, group_name};
use super::{Chart, Percentile};

/// A start tag (or empty-element tag) and its attributes.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: HashMap<String, String>,
    text: String,
}

impl Element {
    fn get(&self, name: &str) -> &str {
        self.attributes.get(name).unwrap_or_else(|| panic!("{} has no {name}", self.name))
    }

    fn number(&self, name: &str) -> f64 {
        self.get(name).parse().unwrap()
    }
}

/// Checks that an entity reference starting at `text[0] == '&'` is one of XML's five.
fn check_entities(text: &str) {
    for (at, _) in text.match_indices('&') {
        let known = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"];
        assert!(known.iter().any(|entity| text[at..].starts_with(entity)), "bare & in {text:?}");
    }
}

/// A strict-enough XML well-formedness check: one prolog, one root, tags nest and close in
/// order, attributes are `name="value"` without `<` or a bare `&`, text has no `<` or bare `&`.
/// Returns every element in document order, with the text directly after its start tag.
fn parse(xml: &str) -> Vec<Element> {
    let mut rest =
        xml.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").expect("prolog");
    let (mut stack, mut elements, mut roots) = (Vec::<String>::new(), Vec::<Element>::new(), 0);
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        check_entities(text);
        if stack.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        } else if let Some(last) = elements.last_mut()
            && last.text.is_empty()
        {
            last.text = text.to_owned();
        }
        rest = &rest[open + 1..];
        let close = rest.find('>').expect("an unterminated tag");
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            continue;
        }
        let empty = tag.ends_with('/');
        let tag = tag.trim_end_matches('/').trim_end();
        let (name, mut attributes_text) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()), "{name:?}");
        let mut attributes = HashMap::new();
        while !attributes_text.trim().is_empty() {
            let trimmed = attributes_text.trim_start();
            let (key, after) = trimmed.split_once("=\"").expect("attribute without =\"");
            assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'));
            let (value, after) = after.split_once('"').expect("unterminated attribute");
            assert!(!value.contains('<'), "< in attribute {key}");
            check_entities(value);
            assert!(attributes.insert(key.to_owned(), unescape(value)).is_none(), "dup {key}");
            attributes_text = after;
        }
        if stack.is_empty() {
            roots += 1;
        }
        if !empty {
            stack.push(name.to_owned());
        }
        elements.push(Element { name: name.to_owned(), attributes, text: String::new() });
    }
    assert!(rest.trim().is_empty(), "text after the root");
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1, "one root element");
    assert_eq!(elements[0].name, "svg");
    elements
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn curve(points: &[(f64, f64)]) -> Vec<Percentile> {
    points.iter().map(|&(percentile, latency_us)| Percentile { percentile, latency_us }).collect()
}

/// Two groups, three series (one missing from a group), latencies spanning three decades, and
/// names with markup characters.
fn sample() -> Chart {
    let mut chart = Chart::new("corekv <vs> \"peers\" & co");
    chart.notes.push("2 cores & a shared machine".to_owned());
    let fast =
        curve(&[(50.0, 80.0), (90.0, 120.0), (99.0, 400.0), (99.9, 2_000.0), (99.99, 9_000.0)]);
    let slow = curve(&[(50.0, 150.0), (99.0, 900.0), (99.9, 40_000.0)]);
    chart.add("SET P1", "corekv", 400_000.0, fast.clone()).unwrap();
    chart.add("SET P1", "redis", 200_000.0, slow.clone()).unwrap();
    chart.add("SET P1", "valkey", 100_000.0, slow.clone()).unwrap();
    chart.add("GET <P16>", "redis", 50_000.0, slow).unwrap();
    chart.add("GET <P16>", "corekv", 700_000.0, fast).unwrap();
    chart
}

#[test]
fn svg_is_well_formed_and_escapes_names() {
    let svg = sample().to_svg();
    let elements = parse(&svg);
    let texts: Vec<&str> =
        elements.iter().filter(|e| e.name == "text").map(|e| e.text.as_str()).collect();
    assert!(texts.contains(&"corekv &lt;vs&gt; &quot;peers&quot; &amp; co"), "{texts:?}");
    assert!(texts.contains(&"GET &lt;P16&gt;"));
    assert!(!svg.contains("<P16>"));
}

#[test]
fn axes_are_labelled() {
    let elements = parse(&sample().to_svg());
    let texts: Vec<String> =
        elements.iter().filter(|e| e.name == "text").map(|e| unescape(&e.text)).collect();
    for label in [
        "Throughput (ops/s, higher is better)",
        "under each group: corekv / the series of the ratio's colour",
        "operations per second",
        "percentile",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "p99.99",
        "SET P1",
        "GET <P16>",
        "0",
        "700k",
        "10 µs",
        "100 µs",
        "1 ms",
        "10 ms",
        "100 ms",
    ] {
        assert!(texts.iter().any(|text| text == label), "no {label:?} in {texts:?}");
    }
    // Two latency panels (one per group), each with its five percentile ticks.
    assert_eq!(texts.iter().filter(|text| *text == "p99.9").count(), 2);
    assert_eq!(texts.iter().filter(|text| *text == "percentile").count(), 2);
}

#[test]
fn one_bar_per_measured_series_and_group() {
    let chart = sample();
    let elements = parse(&chart.to_svg());
    let bars: Vec<&Element> =
        elements.iter().filter(|e| e.attributes.get("class").is_some_and(|c| c == "bar")).collect();
    assert_eq!(bars.len(), 5);
    let in_set: Vec<&str> = bars
        .iter()
        .filter(|bar| bar.get("data-group") == "SET P1")
        .map(|bar| bar.get("data-series"))
        .collect();
    assert_eq!(in_set, ["corekv", "redis", "valkey"]);
    let in_get: Vec<&str> = bars
        .iter()
        .filter(|bar| bar.get("data-group") == "GET <P16>")
        .map(|bar| bar.get("data-series"))
        .collect();
    assert_eq!(in_get, ["corekv", "redis"], "bars in series order, whatever the input order");
    // A series has one colour everywhere, and the legend shows it.
    for series in ["corekv", "redis"] {
        let fills: Vec<&str> = bars
            .iter()
            .filter(|bar| bar.get("data-series") == series)
            .map(|bar| bar.get("fill"))
            .collect();
        assert!(fills.windows(2).all(|pair| pair[0] == pair[1]), "{series}: {fills:?}");
    }
    // Ratios are the baseline's (the first series) to each other series, in that one's colour.
    let ratios: Vec<String> = elements
        .iter()
        .filter(|e| e.attributes.get("class").is_some_and(|c| c == "ratio"))
        .map(|e| unescape(&e.text))
        .collect();
    assert_eq!(ratios, ["corekv/redis 2.00x", "corekv/valkey 4.00x", "corekv/redis 14.00x"]);
}

#[test]
fn bars_and_points_are_placed_monotonically() {
    let elements = parse(&sample().to_svg());
    let mut bars: Vec<(f64, f64, f64, f64)> = elements
        .iter()
        .filter(|e| e.attributes.get("class").is_some_and(|c| c == "bar"))
        .map(|bar| {
            (
                bar.number("data-value"),
                bar.number("y"),
                bar.number("height"),
                bar.number("y") + bar.number("height"),
            )
        })
        .collect();
    bars.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in bars.windows(2) {
        assert!(pair[0].1 > pair[1].1, "a larger value has a higher top: {pair:?}");
        assert!(pair[0].2 < pair[1].2, "and a taller bar: {pair:?}");
        assert_eq!(pair[0].3, pair[1].3, "on one baseline");
    }
    // Heights are proportional to values (a linear axis from zero), within rounding.
    let (low, high) = (bars[0], bars[bars.len() - 1]);
    assert!((high.2 / low.2 - high.0 / low.0).abs() / (high.0 / low.0) < 0.02, "{low:?} {high:?}");

    let points: Vec<&Element> = elements
        .iter()
        .filter(|e| e.attributes.get("class").is_some_and(|c| c == "point"))
        .collect();
    assert_eq!(points.len(), 5 + 3 + 3 + 3 + 5);
    for group in ["SET P1", "GET <P16>"] {
        let mut in_group: Vec<(f64, f64, f64, f64)> = points
            .iter()
            .filter(|p| p.get("data-group") == group)
            .map(|p| {
                (
                    p.number("data-percentile"),
                    p.number("data-value"),
                    p.number("cx"),
                    p.number("cy"),
                )
            })
            .collect();
        // Further right for a higher percentile, whichever series.
        in_group.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in in_group.windows(2) {
            if pair[0].0 < pair[1].0 {
                assert!(pair[0].2 < pair[1].2, "{group}: {pair:?}");
            } else {
                assert_eq!(pair[0].2, pair[1].2, "{group}: one percentile, one x");
            }
        }
        // Higher (smaller y) for a larger latency, whichever series and percentile.
        in_group.sort_by(|a, b| a.1.total_cmp(&b.1));
        for pair in in_group.windows(2) {
            if pair[0].1 < pair[1].1 {
                assert!(pair[0].3 > pair[1].3, "{group}: {pair:?}");
            }
        }
        // The log scale: equal ratios are equal distances (10x: 80 -> 800 would be one decade).
        let y_of = |value: f64| in_group.iter().find(|p| p.1 == value).unwrap().3;
        let decade = y_of(80.0) - y_of(900.0);
        let expected = (900f64 / 80.0).log10();
        let per_decade = (y_of(80.0) - y_of(9_000.0)) / (9_000f64 / 80.0).log10();
        assert!((decade / per_decade - expected).abs() < 0.02, "{group}: not a log scale");
    }
    // The percentile axis is the 1/(1-p) log scale: p90 to p99 is as wide as p99 to p99.9.
    let x_of = |percentile: f64| {
        points.iter().find(|p| p.number("data-percentile") == percentile).unwrap().number("cx")
    };
    let (nine, ninety_nine, three_nines) = (x_of(90.0), x_of(99.0), x_of(99.9));
    assert!(((ninety_nine - nine) - (three_nines - ninety_nine)).abs() < 0.5);
}

#[test]
fn add_rejects_duplicates_and_bad_values() {
    let mut chart = sample();
    assert!(chart.add("SET P1", "corekv", 1.0, vec![]).is_err(), "a second corekv in SET P1");
    assert!(chart.add("X", "corekv", f64::NAN, vec![]).is_err());
    assert!(chart.add("X", "corekv", -1.0, vec![]).is_err());
    assert!(chart.add("X", "corekv", 1.0, curve(&[(100.0, 5.0)])).is_err());
    assert!(chart.add("X", "corekv", 1.0, curve(&[(99.0, f64::INFINITY)])).is_err());
    for i in 0..super::MAX_SERIES - 3 {
        chart.add("X", &format!("s{i}"), 1.0, vec![]).unwrap();
    }
    assert!(chart.add("X", "one too many", 1.0, vec![]).is_err());
    assert!(chart.set_baseline("redis").is_ok());
    assert_eq!(chart.baseline, 1);
    assert!(chart.set_baseline("nobody").is_err());
}

#[test]
fn a_group_without_latency_says_so() {
    let mut chart = Chart::new("t");
    chart.add("MSET x1000", "corekv", 10.0, vec![]).unwrap();
    let elements = parse(&chart.to_svg());
    assert!(elements.iter().any(|e| e.name == "text" && e.text == "no latency data"));
}

fn bench_report(
    target: &str,
    label: Option<&str>,
    mix: &str,
    pipeline: u64,
    ops_per_s: f64,
) -> String {
    let label = label.map_or(String::new(), |label| format!("\"label\": \"{label}\","));
    format!(
        r#"{{
  "schema": "corekv-bench/1", {label}
  "machine": {{ "cpu_model": "Xeon", "cores": 2, "kernel": "Linux 6.1", "git_commit": "0123456789abcdef",
               "date_utc": "2026-01-01T00:00:00Z", "corekv_version": "0.1.0" }},
  "command_line": ["corekv-bench"],
  "target": "{target}",
  "workload": {{ "mix": {{ "entries": {mix} }}, "keys": 1000, "key_size": 16, "value_size": 64,
                "distribution": {{ "kind": "uniform" }}, "mset_keys": 1000, "multi_sets": 10,
                "preload": false, "seed": 1 }},
  "load": {{ "connections": 1, "threads": 1, "pipeline": {pipeline}, "mode": {{ "kind": "closed" }},
            "stop": {{ "duration": 1.0 }}, "warmup": 0.0, "pin_threads": false }},
  "results": {{ "elapsed_s": 1.0, "commands": [],
    "overall": {{ "command": "ALL", "ops": 1, "errors": 0, "ops_per_s": {ops_per_s}, "first_error": null,
      "latency_us": {{ "min": 1, "mean": 2, "p50": 10, "p90": 20, "p99": 30, "p99_9": 40, "p99_99": 50, "max": 60 }},
      "service_time_us": {{ "min": 1, "mean": 2, "p50": 10, "p90": 20, "p99": 30, "p99_9": 40, "p99_99": 50, "max": 60 }} }} }}
}}"#
    )
}

#[test]
fn reads_bench_reports_and_peer_comparisons() {
    let directory = std::env::temp_dir().join(format!("corekv-chart-test-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let write = |name: &str, text: &str| {
        let path = directory.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let set = r#"[{ "command": "SET", "weight": 1 }]"#;
    let mset = r#"[{ "command": "MSET", "weight": 1 }]"#;
    let mixed = r#"[{ "command": "GET", "weight": 90 }, { "command": "SET", "weight": 10 }]"#;
    let inputs = [
        Input::parse(&write("a.json", &bench_report("embedded", None, set, 1, 1e6))),
        Input::parse(&format!(
            "corekv={}",
            write("b.json", &bench_report("resp://127.0.0.1:1", None, set, 1, 2e5))
        )),
        Input::parse(&write(
            "c.json",
            &bench_report("resp://127.0.0.1:2", Some("redis"), mset, 1, 300.0),
        )),
        Input::parse(&write("d.json", &bench_report("embedded", None, mixed, 16, 5.0))),
    ];
    let chart = chart_of(&inputs, None).unwrap();
    assert_eq!(chart.title, "corekv-bench results");
    assert_eq!(chart.series, ["embedded", "corekv", "redis"]);
    let groups: Vec<&str> = chart.groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(groups, ["SET", "MSET x1000", "get=90,set=10 P16"]);
    assert_eq!(chart.groups[0].measurements[1].ops_per_s, 2e5);
    assert_eq!(
        chart.groups[0].measurements[1].latency[3],
        Percentile { percentile: 99.9, latency_us: 40.0 }
    );
    assert_eq!(
        chart.notes,
        ["Xeon, 2 cores, Linux 6.1; commit 0123456789ab", "run at 2026-01-01T00:00:00Z"]
    );
    // The same series twice in one group is refused, naming the cure.
    let twice = [inputs[0].clone(), inputs[0].clone()];
    assert!(chart_of(&twice, None).unwrap_err().to_string().contains("different labels"));

    let peers = write(
        "peers.json",
        r#"{ "date": "2026-11-23 16:34 UTC", "command": "scripts/compare-peers.sh",
             "machine": { "cpu": "Xeon", "cores": 2, "kernel": "6.1" }, "git_commit": "abc",
             "workload": { "tool": "redis-benchmark 7.0.15", "clients": 50, "keyspace": 100000,
                           "value_bytes": 32, "rounds": 5 },
             "servers": [{ "name": "corekv" }, { "name": "redis" }],
             "results": [{ "test": "SET", "pipeline": 16, "servers": {
                 "corekv": { "median": { "rps": 500000.0, "p50_latency_ms": 0.3, "p99_latency_ms": 3.0 } },
                 "redis": { "median": { "rps": 400000.0, "p50_latency_ms": 0.2, "p99_latency_ms": 1.0 } } } }] }"#,
    );
    let chart = chart_of(&[Input::parse(&peers)], Some("mine")).unwrap();
    assert_eq!(chart.title, "mine");
    assert_eq!(chart.series, ["corekv", "redis"]);
    assert_eq!(chart.groups[0].name, "SET P16");
    assert_eq!(
        chart.groups[0].measurements[1].latency,
        [
            Percentile { percentile: 50.0, latency_us: 200.0 },
            Percentile { percentile: 99.0, latency_us: 1000.0 }
        ]
    );
    assert!(chart.notes.iter().any(|note| note.contains("redis-benchmark 7.0.15, 50 clients")));

    let junk = write("junk.json", r#"{ "hello": 1 }"#);
    let error = chart_of(&[Input::parse(&junk)], None).unwrap_err().to_string();
    assert!(error.contains("junk.json") && error.contains("neither"), "{error}");
    let missing = directory.join("missing.json");
    assert!(chart_of(&[Input::parse(missing.to_str().unwrap())], None).is_err());
    assert!(chart_of(&[], None).is_err());
    let _ = std::fs::remove_dir_all(&directory);
}

#[test]
fn group_names_describe_the_load() {
    let report: serde_json::Value = serde_json::from_str(
        r#"{ "workload": { "mix": { "entries": [{ "command": "MULTI", "weight": 1 }] }, "multi_sets": 10,
             "distribution": { "kind": "zipf", "exponent": 0.99 } },
             "load": { "pipeline": 1, "mode": { "kind": "open", "rate_per_s": 1000.0 } } }"#,
    )
    .unwrap();
    assert_eq!(group_name(&report).unwrap(), "MULTI x10 zipf 0.99 @1000.0 ops/s");
}
