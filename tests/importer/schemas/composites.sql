-- Composite types (schemac.kinds.composites): nested, with a collation, an enum attribute and
-- a comment, used by a table column and a function argument.
CREATE SCHEMA geo;
CREATE TYPE geo.accuracy AS ENUM ('exact', 'approximate');
CREATE TYPE geo.point2 AS (lat double precision, lon double precision, how geo.accuracy);
COMMENT ON TYPE geo.point2 IS 'A point on the map.';
CREATE TYPE geo.address AS (street text COLLATE "C", zip varchar(10), at geo.point2);
CREATE TABLE geo.place (
    id bigint PRIMARY KEY,
    address geo.address,
    corners geo.point2[]
);
CREATE FUNCTION geo.lat_of(p geo.point2) RETURNS double precision
    LANGUAGE sql AS $$
SELECT (p).lat
$$;
