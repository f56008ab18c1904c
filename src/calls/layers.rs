//! Layers of the call graph: entry points (nothing shown calls them) in layer 0, every other service one
//! layer below its deepest caller, so calls run one way, top to bottom (or left to right). Cycles (a calls
//! b, b calls a) are broken where the fewest calls point back. Every renderer draws these layers, in this
//! order: the same graph always gives the same picture.

use super::{CallEdge, CallGraph, Group, Node};
use std::collections::BTreeSet;

pub(super) fn assign(groups: &mut [Group], nodes: &[Node], edges: &[CallEdge]) {
    let calls: BTreeSet<(usize, usize)> =
        edges.iter().map(|e| (nodes[e.from].group, nodes[e.to].group)).filter(|(from, to)| from != to).collect();
    let n = groups.len();
    let (mut callers, mut callees) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    for &(from, to) in &calls {
        callers[to].push(from);
        callees[from].push(to);
    }
    // Kahn's order: a group is placed once all its callers are; O(groups + calls), plus one scan per cycle.
    let mut waiting: Vec<usize> = callers.iter().map(Vec::len).collect();
    let mut layer: Vec<Option<usize>> = vec![None; n];
    let mut ready: Vec<usize> = (0..n).filter(|&g| waiting[g] == 0).collect();
    for _ in 0..n {
        let g = match ready.pop() {
            Some(g) => g,
            // A cycle: start it at the group with the fewest callers not yet placed (then by name).
            None => match (0..n).filter(|&g| layer[g].is_none()).min_by_key(|&g| (waiting[g], &groups[g].name)) {
                Some(g) => g,
                None => break,
            },
        };
        if layer[g].is_some() {
            continue;
        }
        let deepest = callers[g].iter().filter_map(|&c| layer[c]).max();
        layer[g] = Some(deepest.map_or(0, |d| d + 1));
        for &next in &callees[g] {
            waiting[next] -= 1;
            if waiting[next] == 0 && layer[next].is_none() {
                ready.push(next);
            }
        }
    }
    for (g, l) in groups.iter_mut().zip(layer) {
        g.layer = l.unwrap_or(0);
    }
}

/// The graph in its one order: groups by layer then name, versions by name, edges by caller then callee.
pub(super) fn order(graph: CallGraph) -> CallGraph {
    let CallGraph { groups, nodes, edges, window, unknown } = graph;
    let mut by_group: Vec<usize> = (0..groups.len()).collect();
    by_group.sort_by(|&a, &b| (groups[a].layer, &groups[a].name).cmp(&(groups[b].layer, &groups[b].name)));
    let group_at = inverse(&by_group);
    let mut by_node: Vec<usize> = (0..nodes.len()).collect();
    by_node.sort_by(|&a, &b| {
        (group_at[nodes[a].group], &nodes[a].version).cmp(&(group_at[nodes[b].group], &nodes[b].version))
    });
    let node_at = inverse(&by_node);
    let nodes: Vec<Node> =
        by_node.iter().map(|&n| Node { group: group_at[nodes[n].group], ..nodes[n].clone() }).collect();
    let mut groups: Vec<Group> = by_group.iter().map(|&g| Group { nodes: Vec::new(), ..groups[g].clone() }).collect();
    for (i, n) in nodes.iter().enumerate() {
        groups[n.group].nodes.push(i);
    }
    let mut edges: Vec<CallEdge> =
        edges.into_iter().map(|e| CallEdge { from: node_at[e.from], to: node_at[e.to], ..e }).collect();
    edges.sort_by_key(|e| (e.from, e.to));
    CallGraph { groups, nodes, edges, window, unknown }
}

/// Where each old index went: `order[new] = old` becomes `at[old] = new`.
fn inverse(order: &[usize]) -> Vec<usize> {
    let mut at = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        at[old] = new;
    }
    at
}
