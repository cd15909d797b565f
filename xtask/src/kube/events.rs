//! The namespace's recent warning events: what the scheduler, the kubelet and the controllers
//! said about the objects that are not becoming ready.

use k8s_openapi::api::core::v1::Event;
use kube::{Api, Client, api::ListParams};

/// The `limit` latest Warning events of `namespace`, one indented line each.
pub async fn recent_warnings(client: &Client, namespace: &str, limit: usize) -> String {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let listed = match events
        .list(&ListParams::default().fields("type=Warning"))
        .await
    {
        Ok(listed) => listed.items,
        Err(err) => return format!("  (cannot list events: {err})"),
    };
    let mut warnings: Vec<(String, String)> = listed
        .into_iter()
        .map(|event| {
            let when = event
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| event.event_time.as_ref().map(|t| t.0.to_string()))
                .unwrap_or_default();
            let object = format!(
                "{}/{}",
                event.involved_object.kind.unwrap_or_default(),
                event.involved_object.name.unwrap_or_default()
            );
            let line = format!(
                "  {object}: {} {}",
                event.reason.unwrap_or_default(),
                event.message.unwrap_or_default().trim()
            );
            (when, line)
        })
        .collect();
    if warnings.is_empty() {
        return "  (none)".to_owned();
    }
    warnings.sort();
    let start = warnings.len().saturating_sub(limit);
    warnings[start..]
        .iter()
        .map(|(_, line)| line.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
