-- Who entered each work-order event, beside whom it names (`by`): an operator may record a
-- technician's fix for them, and 整改销号 must then keep both of them from signing it off.
ALTER TABLE work_order_events ADD COLUMN entered_by TEXT;
