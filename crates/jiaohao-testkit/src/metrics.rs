//! Reading the hub's Prometheus exposition, checked as a scraper would read it.

use std::collections::BTreeMap;

use jiaohao_client::Client;
use reqwest::Method;

use crate::send;

/// The samples of a text exposition: `name{labels}` → value. Also checks that every sample
/// belongs to a family declared by `# TYPE` before it.
pub fn parse_exposition(text: &str) -> BTreeMap<String, f64> {
    let mut declared = Vec::<String>::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            declared.push(name.to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("a sample is `name value`");
        let name = key.split('{').next().unwrap_or(key);
        assert!(
            declared.iter().any(|family| name == family
                || name
                    .strip_prefix(family.as_str())
                    .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
            "{name} has no # TYPE line before it"
        );
        let value: f64 = value
            .parse()
            .unwrap_or_else(|e| panic!("{line}: the value is not a number ({e})"));
        assert!(
            samples.insert(key.to_owned(), value).is_none(),
            "{key} twice"
        );
    }
    samples
}

/// `GET /metrics`, checked to be a text exposition, as samples.
pub async fn scrape(client: &Client) -> BTreeMap<String, f64> {
    let reply = send(client.request(Method::GET, "/metrics")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.content_type.starts_with("text/plain"),
        "{}",
        reply.content_type
    );
    parse_exposition(&reply.body)
}
