"""vrp: data and analysis platform for Violence Reduction Partnerships."""
