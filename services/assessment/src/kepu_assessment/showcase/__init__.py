"""先进典型 showcase: the honoured units, talents, activities and resources of published schemes."""
