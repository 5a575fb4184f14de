//! `tools/list`: the order, pages and cursors, and caching hints.
//!
//! Tools are listed in the registry's order, sorted by action id, so every answer (and every
//! replica) lists them alike. With `mcpActions.listPageSize` the caller's list — the tools it
//! may see — is cut into pages. A cursor names where the next page starts in that list and
//! carries a digest of it: base64url of the offset (4 bytes, big-endian) and the first 8 bytes
//! of a SHA-256 over the server's tool names and the positions the caller may see. So a cursor
//! means the same on every replica of the same binary and config, and one issued for another
//! list (another server, a caller who sees other tools, a deployment with other tools) is
//! refused rather than silently skipping or repeating tools.

use std::num::NonZeroUsize;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmcp::ErrorData as McpError;
use rmcp::model::{CacheScope, ListToolsResult, ProtocolVersion, Tool};
use sha2::{Digest, Sha256};

/// How long a client may keep a `tools/list` answer before listing again (2026-07-28
/// `ttlMs`). The tools change only when the server restarts; whom the permission policy allows
/// may change at any time, and such a change reaches a caching client within this time.
pub(crate) const LIST_TTL_MS: u64 = 60_000;

/// Bytes of the list digest a cursor carries.
const DIGEST_LEN: usize = 8;
/// Bytes of a decoded cursor: the offset, then the digest.
const CURSOR_LEN: usize = 4 + DIGEST_LEN;

/// How `tools/list` answers: the page size, and the digest every cursor's digest starts from.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    page_size: Option<NonZeroUsize>,
    /// SHA-256 over every tool name, in order.
    names: [u8; 32],
}

impl Listing {
    /// The listing of `tools` (every tool of the endpoint, in order), `page_size` tools a
    /// page (`None`: one page).
    pub(crate) fn new(tools: &[Tool], page_size: Option<NonZeroUsize>) -> Self {
        let mut hasher = Sha256::new();
        for tool in tools {
            // Length-prefixed, so that no two lists of names hash alike by concatenation.
            hasher.update((tool.name.len() as u64).to_be_bytes());
            hasher.update(tool.name.as_bytes());
        }
        Self {
            page_size,
            names: hasher.finalize().into(),
        }
    }

    /// The page of the caller's list `visible` (positions into the endpoint's tools, in order)
    /// that `cursor` names (the first page without one): the range of `visible` to list, and
    /// the cursor of the next page, if any. A cursor this listing did not issue for this list
    /// is JSON-RPC -32602.
    pub(crate) fn page(
        &self,
        visible: &[usize],
        cursor: Option<&str>,
    ) -> Result<(std::ops::Range<usize>, Option<String>), McpError> {
        let Some(size) = self.page_size else {
            return match cursor {
                None => Ok((0..visible.len(), None)),
                // Nothing this server answers has a cursor.
                Some(_) => Err(bad_cursor()),
            };
        };
        let digest = cursor.is_some() || visible.len() > size.get();
        let digest = digest.then(|| self.digest(visible));
        let start = match cursor {
            None => 0,
            Some(cursor) => {
                let digest = digest.as_ref().expect("computed when there is a cursor");
                decode(cursor, digest)
                    .filter(|&start| start < visible.len())
                    .ok_or_else(bad_cursor)?
            }
        };
        let end = start.saturating_add(size.get()).min(visible.len());
        let next = (end < visible.len()).then(|| {
            let digest = digest.as_ref().expect("computed when there is a next page");
            encode(end, digest)
        });
        Ok((start..end, next))
    }

    /// The digest of the caller's list: the tool names and the positions it may see.
    fn digest(&self, visible: &[usize]) -> [u8; DIGEST_LEN] {
        let mut hasher = Sha256::new();
        hasher.update(self.names);
        for &position in visible {
            hasher.update((position as u64).to_be_bytes());
        }
        let full: [u8; 32] = hasher.finalize().into();
        let mut digest = [0; DIGEST_LEN];
        digest.copy_from_slice(&full[..DIGEST_LEN]);
        digest
    }
}

fn encode(offset: usize, digest: &[u8; DIGEST_LEN]) -> String {
    let offset = u32::try_from(offset).expect("a tool list has fewer than 2^32 tools");
    let mut bytes = [0; CURSOR_LEN];
    bytes[..4].copy_from_slice(&offset.to_be_bytes());
    bytes[4..].copy_from_slice(digest);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The offset `cursor` names, when it was issued for the list of `digest` (the caller checks
/// that it lies within that list).
fn decode(cursor: &str, digest: &[u8; DIGEST_LEN]) -> Option<usize> {
    // 12 bytes are 16 base64 characters: refuse anything longer before decoding it.
    if cursor.len() != 16 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let bytes: [u8; CURSOR_LEN] = bytes.try_into().ok()?;
    if bytes[4..] != digest[..] {
        return None;
    }
    let offset = u32::from_be_bytes(bytes[..4].try_into().ok()?);
    // Cursors are only issued for offsets > 0.
    (offset > 0).then_some(offset as usize)
}

/// The -32602 answer to a cursor this server did not issue for the caller's tool list.
fn bad_cursor() -> McpError {
    McpError::invalid_params(
        "invalid params for `tools/list`: the cursor is not one this server issued for this tool list (it may have changed since); list again without a cursor",
        None,
    )
}

/// Whether answers on `version` carry 2026-07-28's caching hints.
pub(crate) fn has_cache_hints(version: Option<&ProtocolVersion>) -> bool {
    version.is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// `tools` with the next page's cursor and, for 2026-07-28, its caching hints. The list is
/// always `private`: which tools it holds depends on the caller (the token's access
/// restrictions, the permission policy), so no answer may be served to another caller.
pub(crate) fn result(tools: Vec<Tool>, next: Option<String>, hints: bool) -> ListToolsResult {
    let mut result = ListToolsResult::with_all_items(tools);
    result.next_cursor = next;
    if hints {
        result = result
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(CacheScope::Private);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools(names: &[&'static str]) -> Vec<Tool> {
        names
            .iter()
            .map(|name| Tool::new(*name, "", std::sync::Arc::new(Default::default())))
            .collect()
    }

    fn paged(size: usize) -> Listing {
        Listing::new(&tools(&["a", "b", "c", "d", "e"]), NonZeroUsize::new(size))
    }

    /// Every page of `visible` (start and end), following the cursors.
    fn all_pages(listing: &Listing, visible: &[usize]) -> Vec<(usize, usize)> {
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let (range, next) = listing.page(visible, cursor.as_deref()).unwrap();
            pages.push((range.start, range.end));
            match next {
                Some(next) => cursor = Some(next),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_cover_the_callers_list_once_in_order() {
        let all = [0, 1, 2, 3, 4];
        assert_eq!(all_pages(&paged(2), &all), [(0, 2), (2, 4), (4, 5)]);
        assert_eq!(all_pages(&paged(5), &all), [(0, 5)]);
        assert_eq!(all_pages(&paged(9), &all), [(0, 5)]);
        assert_eq!(all_pages(&paged(2), &[1, 3, 4]), [(0, 2), (2, 3)]);
        assert_eq!(all_pages(&paged(2), &[]), [(0, 0)]);
        let unpaged = Listing::new(&tools(&["a", "b"]), None);
        assert_eq!(all_pages(&unpaged, &[0, 1]), [(0, 2)]);
    }

    #[test]
    fn cursors_are_the_same_for_the_same_tools_and_opaque() {
        let all = [0, 1, 2, 3, 4];
        let (_, first) = paged(2).page(&all, None).unwrap();
        let (_, again) = paged(2).page(&all, None).unwrap();
        let first = first.unwrap();
        assert_eq!(
            Some(first.clone()),
            again,
            "another replica issues the same cursor"
        );
        assert_eq!(first.len(), 16);
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{first}"
        );
    }

    #[test]
    fn a_cursor_for_another_list_or_a_forged_one_is_invalid_params() {
        let all = [0, 1, 2, 3, 4];
        let listing = paged(2);
        let (_, cursor) = listing.page(&all, None).unwrap();
        let cursor = cursor.unwrap();
        // Another caller's list, another tool set, no paging at all.
        let other_tools = Listing::new(&tools(&["a", "b", "c", "d", "x"]), NonZeroUsize::new(2));
        let unpaged = Listing::new(&tools(&["a", "b", "c", "d", "e"]), None);
        let mut forged = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        forged[3] = 4; // offset 4, same digest: accepted only as an offset this list has
        let forged_ok = URL_SAFE_NO_PAD.encode(&forged);
        forged[3] = 0; // offset 0 is never issued
        let zero = URL_SAFE_NO_PAD.encode(&forged);
        forged[4] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(&forged);
        for (what, listing, visible, cursor) in [
            (
                "another caller's list",
                &listing,
                &[0, 1, 2, 3][..],
                cursor.as_str(),
            ),
            ("another tool set", &other_tools, &all[..], cursor.as_str()),
            ("no paging", &unpaged, &all[..], cursor.as_str()),
            ("offset 0", &listing, &all[..], zero.as_str()),
            ("a changed digest", &listing, &all[..], tampered.as_str()),
            ("not base64", &listing, &all[..], "!!!!!!!!!!!!!!!!"),
            ("too short", &listing, &all[..], "AAAA"),
            ("empty", &listing, &all[..], ""),
        ] {
            let error = listing.page(visible, Some(cursor)).unwrap_err();
            assert_eq!(error.code, rmcp::model::ErrorCode::INVALID_PARAMS, "{what}");
            assert!(
                error.message.contains("list again without a cursor"),
                "{what}"
            );
        }
        let (range, next) = listing.page(&all, Some(&forged_ok)).unwrap();
        assert_eq!((range, next), (4..5, None));
    }

    #[test]
    fn hints_are_for_2026_07_28_only_and_always_private() {
        assert!(has_cache_hints(Some(&ProtocolVersion::V_2026_07_28)));
        assert!(!has_cache_hints(Some(&ProtocolVersion::V_2025_11_25)));
        assert!(!has_cache_hints(None));
        let modern = result(Vec::new(), None, true);
        assert_eq!(modern.ttl_ms, Some(LIST_TTL_MS));
        assert_eq!(modern.cache_scope, Some(CacheScope::Private));
        let legacy = result(Vec::new(), Some("c".into()), false);
        assert_eq!((legacy.ttl_ms, legacy.cache_scope), (None, None));
        assert_eq!(legacy.next_cursor.as_deref(), Some("c"));
    }
}
