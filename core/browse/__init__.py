"""Browse: a filtered, freely navigable list of comparisons with every verdict in words."""
