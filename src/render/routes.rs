//! `route SERVICE`: the listing of a host's condition routes as a table, or its document.

use super::{Format, RenderError, document, table_of};
use crate::views::routes::RouteListing;

pub fn render(listing: &RouteListing, format: Format) -> Result<String, RenderError> {
    if let Some(doc) = document(listing, format) {
        return doc;
    }
    let object = format!("{} {}/{}", listing.kind, listing.namespace, listing.name);
    if listing.routes.is_empty() {
        return Ok(format!("{object} has no routes with conditions: every request takes the catch-all route\n"));
    }
    let set = |v: &Option<serde_json::Value>| if v.is_some() { "yes" } else { "-" }.to_string();
    let rows = listing
        .routes
        .iter()
        .map(|r| {
            let to: Vec<String> =
                r.to.iter().map(|s| format!("{} {}%", s.version, crate::numbers::significant(s.percent))).collect();
            vec![r.route.clone(), r.conditions.clone(), to.join(", "), set(&r.fault), set(&r.retries), set(&r.timeout)]
        })
        .collect();
    let table = table_of(
        &["ROUTE", "MATCH", "TO", "FAULT", "RETRIES", "TIMEOUT"],
        rows,
        &["FAULT", "RETRIES", "TIMEOUT"],
        format == Format::Wide,
    );
    Ok(format!("{object}\n{table}"))
}
