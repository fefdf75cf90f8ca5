"""Site profiles and what follows from them: the TOML profiles (built-in ones in this folder) and URL identity across a site's hosts."""
