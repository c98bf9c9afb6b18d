"""Pure helpers every capability may use and that use no capability: validation of common fields, paging, SQL
helpers, the hash chain, working days, record lookups. Web-specific pieces (forms, navigation, links, the home
page) are in :mod:`certsvc.ui`."""
