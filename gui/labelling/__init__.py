"""The labelling workspace: side-by-side outputs, keyboard actions, live statistics, start form."""
