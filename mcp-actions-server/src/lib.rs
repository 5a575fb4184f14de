//! Serves mcp-actions actions over MCP (being written).
