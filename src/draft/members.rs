//! Sectors and their members from a report's text.
//!
//! Two kinds of source, merged: list lines (`相关标的：A、B、C`, `重点推荐：…`, `建议关注：…`)
//! under the nearest `【sector】` heading, and tables of (板块, 公司) rows (tab- or
//! `|`-separated). In a list, `算力调度（运营商）` is the sub-group 算力调度 holding 运营商: the
//! group becomes a tag on its members; `海光信息（688041）` is a company with its code. A name
//! is kept once per sector, in first-seen order, with all its tags. When two sources name the
//! same sub-group (the same members) differently (算力散热 in the text, 算力配套 in the table),
//! the tag keeps both names: 算力散热/配套.

use super::text::{clean_line, split_list};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftSector {
    pub name: String,
    pub members: Vec<DraftMember>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftMember {
    /// As the report writes it (百度, 运营商); resolved to listings later.
    pub name: String,
    /// A code the report gives next to the name (`海光信息（688041）`).
    pub code: Option<String>,
    /// Sub-groups inside the sector, in first-seen order.
    pub tags: Vec<String>,
}

/// Line prefixes that introduce a list of companies.
const LIST_MARKERS: [&str; 7] = ["相关标的", "重点推荐", "建议关注", "推荐标的", "受益标的", "关注标的", "相关公司"];

/// Finds every sector and member in the text.
pub fn parse(lines: &[&str]) -> Vec<DraftSector> {
    let mut sources = list_sources(lines);
    sources.extend(table_sources(lines));
    sources.sort_by_key(|(line, ..)| *line);
    let mut sectors: Vec<DraftSector> = Vec::new();
    for (_, name, list) in sources {
        merge(&mut sectors, DraftSector { name, members: members_of(&list) });
    }
    sectors.retain(|sector| !sector.members.is_empty());
    sectors
}

/// `(line, sector, list text)` from `相关标的：…` lines under `【sector】` headings; a line
/// may hold several markers (`重点推荐：A；建议关注：B`).
fn list_sources(lines: &[&str]) -> Vec<(usize, String, String)> {
    let mut current: Option<String> = None;
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let line = clean_line(line);
        if let Some(rest) = line.strip_prefix('【')
            && let Some((heading, _)) = rest.split_once('】')
            && !heading.is_empty()
            && heading.chars().count() <= 12
        {
            current = Some(heading.trim().to_string());
        }
        let Some(sector) = &current else { continue };
        // Each marker followed by a colon, in order along the line.
        let mut starts: Vec<(usize, usize)> = LIST_MARKERS
            .iter()
            .flat_map(|marker| line.match_indices(marker).map(|(at, m)| (at, at + m.len())))
            .filter(|&(_, end)| line[end..].starts_with(['：', ':']))
            .collect();
        starts.sort();
        for (position, &(at, end)) in starts.iter().enumerate() {
            // The first marker must lead the line (or follow a heading), not sit in prose.
            let before = line[..at].trim().trim_end_matches(['；', ';', '。', '，']);
            if position == 0 && !(before.is_empty() || before.ends_with('】')) {
                break;
            }
            let colon_len = line[end..].chars().next().map_or(1, char::len_utf8);
            let until = starts.get(position + 1).map_or(line.len(), |next| next.0);
            found.push((index, sector.clone(), line[end + colon_len..until].to_string()));
        }
    }
    found
}

/// `(line, sector, list text)` from tables whose header has a 板块 (or 行业/领域/方向) column and a
/// 公司 (or 标的) column.
fn table_sources(lines: &[&str]) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    let mut columns: Option<(usize, usize)> = None;
    for (index, line) in lines.iter().enumerate() {
        let cells = cells(line);
        if cells.len() < 2 {
            columns = None;
            continue;
        }
        if cells.iter().all(|cell| cell.chars().all(|c| "-:| ".contains(c))) {
            continue; // a markdown separator row
        }
        let sector_column = cells.iter().position(|cell| ["板块", "行业", "领域", "方向", "赛道"].iter().any(|word| cell.contains(word)));
        let company_column = cells.iter().position(|cell| ["公司", "标的", "个股"].iter().any(|word| cell.contains(word)));
        if let (Some(sector), Some(company)) = (sector_column, company_column)
            && sector != company
            && cells.iter().all(|cell| cell.chars().count() <= 12)
        {
            columns = Some((sector, company));
            continue;
        }
        if let Some((sector, company)) = columns
            && let (Some(name), Some(list)) = (cells.get(sector), cells.get(company))
            && !name.is_empty()
        {
            found.push((index, name.clone(), list.clone()));
        }
    }
    found
}

fn cells(line: &str) -> Vec<String> {
    let line = line.trim().trim_matches('|');
    let parts: Vec<&str> = if line.contains('\t') { line.split('\t').collect() } else { line.split('|').collect() };
    parts.into_iter().map(clean_line).collect()
}

/// The members of one list text, with sub-group tags.
fn members_of(list: &str) -> Vec<DraftMember> {
    let mut list = list.trim().trim_end_matches(['。', '.', '；', ';']).trim();
    // `底层基础算力设施：算力调度（…）…`: a lead-in before a colon outside parentheses.
    if let Some(colon) = top_level_colon(list) {
        list = list[colon..].trim_start_matches(['：', ':']).trim();
    }
    list = list.strip_prefix("包括").unwrap_or(list).trim();
    let mut members: Vec<DraftMember> = Vec::new();
    let mut add = |name: &str, code: Option<String>, tag: Option<&str>| {
        let name = tidy_name(name);
        if name.is_empty() {
            return;
        }
        let index = match members.iter().position(|member| member.name == name) {
            Some(index) => index,
            None => {
                members.push(DraftMember { name, code: None, tags: Vec::new() });
                members.len() - 1
            }
        };
        let member = &mut members[index];
        if member.code.is_none() {
            member.code = code;
        }
        if let Some(tag) = tag
            && !member.tags.iter().any(|t| t == tag)
        {
            member.tags.push(tag.to_string());
        }
    };
    for item in split_list(list) {
        match item.split_once('（') {
            Some((outer, inner)) => {
                let inner = inner.trim_end_matches('）');
                if is_code(inner) {
                    add(outer, Some(inner.to_string()), None);
                } else {
                    let tag = tidy_name(outer);
                    for name in inner.split('、') {
                        add(name, None, (!tag.is_empty()).then_some(tag.as_str()));
                    }
                }
            }
            None => add(&item, None, None),
        }
    }
    members
}

fn top_level_colon(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '（' | '(' => depth += 1,
            '）' | ')' => depth = depth.saturating_sub(1),
            '：' | ':' if depth == 0 => return Some(at),
            _ => {}
        }
    }
    None
}

/// A listing code in parentheses: `688041`, `688041.SH`, `0700.HK`, `MSFT`.
fn is_code(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && text.len() <= 12
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        && text.chars().any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// A name without list noise: trailing 等, quotes, spaces.
fn tidy_name(name: &str) -> String {
    let name = name.trim().trim_matches(['"', '“', '”', '\'', '《', '》']);
    let name = name.strip_suffix("等").unwrap_or(name);
    name.trim().to_string()
}

/// Adds one source's sector into the list: members once, tags joined, a sub-group named
/// differently in two sources keeps both names.
fn merge(sectors: &mut Vec<DraftSector>, incoming: DraftSector) {
    let Some(existing) = sectors.iter_mut().find(|sector| sector.name == incoming.name) else {
        sectors.push(incoming);
        return;
    };
    let incoming_tags = tag_sets(&incoming.members);
    let existing_tags = tag_sets(&existing.members);
    for (tag, members) in &incoming_tags {
        if existing_tags.iter().any(|(name, _)| name == tag) {
            continue;
        }
        let same_group = existing_tags
            .iter()
            .find(|(name, set)| set == members && !incoming_tags.iter().any(|(other, _)| other == name))
            .map(|(name, _)| name.clone());
        if let Some(old) = same_group {
            let joined = join_names(&old, tag);
            for member in &mut existing.members {
                for t in &mut member.tags {
                    if *t == old {
                        *t = joined.clone();
                    }
                }
            }
        }
    }
    let renamed = tag_sets(&existing.members);
    for member in incoming.members {
        let tags: Vec<String> = member
            .tags
            .iter()
            .map(|tag| {
                renamed
                    .iter()
                    .find(|(name, _)| name.split('/').next() == Some(tag) || join_suffix(name, tag))
                    .map_or(tag.clone(), |(name, _)| name.clone())
            })
            .collect();
        match existing.members.iter_mut().find(|m| m.name == member.name) {
            Some(found) => {
                for tag in tags {
                    if !found.tags.contains(&tag) {
                        found.tags.push(tag);
                    }
                }
                if found.code.is_none() {
                    found.code = member.code;
                }
            }
            None => existing.members.push(DraftMember { tags, ..member }),
        }
    }
}

/// Whether `joined` (`算力散热/配套`) was made from `tag` (`算力配套`).
fn join_suffix(joined: &str, tag: &str) -> bool {
    let Some((first, suffix)) = joined.split_once('/') else { return false };
    let prefix_len = first.len() - first.chars().rev().take(suffix.chars().count()).map(char::len_utf8).sum::<usize>();
    first.get(..prefix_len).map(|prefix| format!("{prefix}{suffix}")) == Some(tag.to_string())
}

/// Each tag with the sorted names it holds, in first-seen order.
fn tag_sets(members: &[DraftMember]) -> Vec<(String, Vec<String>)> {
    let mut sets: Vec<(String, Vec<String>)> = Vec::new();
    for member in members {
        for tag in &member.tags {
            match sets.iter_mut().find(|(name, _)| name == tag) {
                Some((_, names)) => names.push(member.name.clone()),
                None => sets.push((tag.clone(), vec![member.name.clone()])),
            }
        }
    }
    for (_, names) in &mut sets {
        names.sort();
    }
    sets
}

/// `算力散热` + `算力配套` → `算力散热/配套` (the shared start written once).
fn join_names(first: &str, second: &str) -> String {
    let shared: usize = first.chars().zip(second.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a.len_utf8()).sum();
    format!("{first}/{}", &second[shared..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_groups_become_tags_and_codes_stay_with_their_company() {
        let members = members_of("包括算力调度（运营商）、算力供给（运营商、奥飞数据）、海光信息（688041）、百度等。");
        let view: Vec<(&str, Option<&str>, Vec<&str>)> =
            members.iter().map(|m| (m.name.as_str(), m.code.as_deref(), m.tags.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            view,
            [
                ("运营商", None, vec!["算力调度", "算力供给"]),
                ("奥飞数据", None, vec!["算力供给"]),
                ("海光信息", Some("688041"), vec![]),
                ("百度", None, vec![]),
            ]
        );
    }

    #[test]
    fn a_sub_group_named_twice_keeps_both_names() {
        assert_eq!(join_names("算力散热", "算力配套"), "算力散热/配套");
        assert!(join_suffix("算力散热/配套", "算力配套"));
        let lines = [
            "【通信】",
            "相关标的：算力散热（英维克、高澜股份）、数据港。",
            "",
            "板块\t建议关注的公司",
            "通信\t算力配套（英维克、高澜股份）、锐捷网络",
        ];
        let sectors = parse(&lines);
        assert_eq!(sectors.len(), 1);
        let view: Vec<(&str, Vec<&str>)> =
            sectors[0].members.iter().map(|m| (m.name.as_str(), m.tags.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            view,
            [("英维克", vec!["算力散热/配套"]), ("高澜股份", vec!["算力散热/配套"]), ("数据港", vec![]), ("锐捷网络", vec![])]
        );
    }

    #[test]
    fn markdown_tables_and_recommendation_lines_are_read() {
        let lines = [
            "| 板块 | 重点公司 |",
            "|---|---|",
            "| 光模块 | 中际旭创、新易盛 |",
            "",
            "【算力】",
            "重点推荐：海光信息；建议关注：寒武纪",
            "我们相关标的：不是列表",
        ];
        let sectors = parse(&lines);
        let view: Vec<(&str, Vec<&str>)> =
            sectors.iter().map(|s| (s.name.as_str(), s.members.iter().map(|m| m.name.as_str()).collect())).collect();
        assert_eq!(view, [("光模块", vec!["中际旭创", "新易盛"]), ("算力", vec!["海光信息", "寒武纪"])]);
    }
}
