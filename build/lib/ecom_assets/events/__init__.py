"""Events at the edge of the product: the contract schema, the simulator, importers, Event Hubs."""
