//! One service's neighbourhood: its versions, the calls into and out of them, and the versions at their other
//! ends. The call graph is built from the whole namespace's routes (so what the service calls is drawn with
//! its own routes and pods), then cut down to this.

use super::{CallEdge, Group, Node};
use std::collections::BTreeSet;

/// Keeps the nodes of `hosts` (a service and, for a host split, the Services its versions are), every edge
/// touching one of them, and the nodes at those edges' other ends; indexes renumbered, groups left without
/// a node dropped.
pub(super) fn around(
    groups: Vec<Group>,
    nodes: Vec<Node>,
    edges: Vec<CallEdge>,
    hosts: &BTreeSet<&str>,
) -> (Vec<Group>, Vec<Node>, Vec<CallEdge>) {
    let focus = |n: usize| groups[nodes[n].group].service.as_deref().is_some_and(|h| hosts.contains(h));
    let edges: Vec<CallEdge> = edges.into_iter().filter(|e| focus(e.from) || focus(e.to)).collect();
    let mut keep: Vec<bool> = (0..nodes.len()).map(focus).collect();
    for e in &edges {
        keep[e.from] = true;
        keep[e.to] = true;
    }
    let mut node_at = vec![usize::MAX; nodes.len()];
    let mut kept_groups: Vec<Group> = Vec::new();
    let mut group_at = vec![usize::MAX; groups.len()];
    let mut kept_nodes: Vec<Node> = Vec::new();
    for (i, mut node) in nodes.into_iter().enumerate().filter(|(i, _)| keep[*i]) {
        if group_at[node.group] == usize::MAX {
            group_at[node.group] = kept_groups.len();
            kept_groups.push(Group { nodes: Vec::new(), ..groups[node.group].clone() });
        }
        node.group = group_at[node.group];
        node_at[i] = kept_nodes.len();
        kept_groups[node.group].nodes.push(kept_nodes.len());
        kept_nodes.push(node);
    }
    let edges = edges.into_iter().map(|e| CallEdge { from: node_at[e.from], to: node_at[e.to], ..e }).collect();
    (kept_groups, kept_nodes, edges)
}
