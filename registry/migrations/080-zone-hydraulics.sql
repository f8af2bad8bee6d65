-- What watering a zone needs beyond its band (contracts/zone.ts ZoneConfig): planted area,
-- root-zone depth and the valve's flow. NULL: the plant type's defaults (DEFAULT_ZONE_HYDRAULICS).
ALTER TABLE zones ADD COLUMN area_m2 REAL;
ALTER TABLE zones ADD COLUMN root_depth_mm REAL;
ALTER TABLE zones ADD COLUMN flow_lpm REAL;
