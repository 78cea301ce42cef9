"""Jobs, schedules, sensors and the range runs behind ``ecom materialize``."""
