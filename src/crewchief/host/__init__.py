"""What a host agent may do with crewchief, and the MCP server that offers it."""
