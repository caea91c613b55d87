-- TPC-H schema and a deterministic data generator (doc/statistics-profile.md).
--
-- Not dbgen: a generator written for guard's tests, following the TPC-H
-- specification's sizes, domains and distributions closely enough for the
-- 22 queries to plan as they do on real TPC-H data.  Deterministic: every
-- value is a function of its row number (hashint8), so the same scale
-- factor gives the same rows on every machine and every run.
--
--   psql -v sf=0.05 -f schema.sql

SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;	-- generation order stays fixed

CREATE TABLE region (
    r_regionkey integer PRIMARY KEY,
    r_name      char(25) NOT NULL,
    r_comment   varchar(152)
);
CREATE TABLE nation (
    n_nationkey integer PRIMARY KEY,
    n_name      char(25) NOT NULL,
    n_regionkey integer NOT NULL REFERENCES region,
    n_comment   varchar(152)
);
CREATE TABLE supplier (
    s_suppkey   integer PRIMARY KEY,
    s_name      char(25) NOT NULL,
    s_address   varchar(40) NOT NULL,
    s_nationkey integer NOT NULL REFERENCES nation,
    s_phone     char(15) NOT NULL,
    s_acctbal   numeric(15,2) NOT NULL,
    s_comment   varchar(101) NOT NULL
);
CREATE TABLE part (
    p_partkey     integer PRIMARY KEY,
    p_name        varchar(55) NOT NULL,
    p_mfgr        char(25) NOT NULL,
    p_brand       char(10) NOT NULL,
    p_type        varchar(25) NOT NULL,
    p_size        integer NOT NULL,
    p_container   char(10) NOT NULL,
    p_retailprice numeric(15,2) NOT NULL,
    p_comment     varchar(23) NOT NULL
);
CREATE TABLE partsupp (
    ps_partkey    integer NOT NULL REFERENCES part,
    ps_suppkey    integer NOT NULL REFERENCES supplier,
    ps_availqty   integer NOT NULL,
    ps_supplycost numeric(15,2) NOT NULL,
    ps_comment    varchar(199) NOT NULL,
    PRIMARY KEY (ps_partkey, ps_suppkey)
);
CREATE TABLE customer (
    c_custkey    integer PRIMARY KEY,
    c_name       varchar(25) NOT NULL,
    c_address    varchar(40) NOT NULL,
    c_nationkey  integer NOT NULL REFERENCES nation,
    c_phone      char(15) NOT NULL,
    c_acctbal    numeric(15,2) NOT NULL,
    c_mktsegment char(10) NOT NULL,
    c_comment    varchar(117) NOT NULL
);
CREATE TABLE orders (
    o_orderkey      integer PRIMARY KEY,
    o_custkey       integer NOT NULL REFERENCES customer,
    o_orderstatus   char(1) NOT NULL,
    o_totalprice    numeric(15,2) NOT NULL,
    o_orderdate     date NOT NULL,
    o_orderpriority char(15) NOT NULL,
    o_clerk         char(15) NOT NULL,
    o_shippriority  integer NOT NULL,
    o_comment       varchar(79) NOT NULL
);
CREATE TABLE lineitem (
    l_orderkey      integer NOT NULL REFERENCES orders,
    l_partkey       integer NOT NULL,
    l_suppkey       integer NOT NULL,
    l_linenumber    integer NOT NULL,
    l_quantity      numeric(15,2) NOT NULL,
    l_extendedprice numeric(15,2) NOT NULL,
    l_discount      numeric(15,2) NOT NULL,
    l_tax           numeric(15,2) NOT NULL,
    l_returnflag    char(1) NOT NULL,
    l_linestatus    char(1) NOT NULL,
    l_shipdate      date NOT NULL,
    l_commitdate    date NOT NULL,
    l_receiptdate   date NOT NULL,
    l_shipinstruct  char(25) NOT NULL,
    l_shipmode      char(10) NOT NULL,
    l_comment       varchar(44) NOT NULL,
    PRIMARY KEY (l_orderkey, l_linenumber)
);

-- a uniform number in [lo, hi] drawn from (row, stream): deterministic
CREATE FUNCTION tpch_r(i bigint, stream int, lo bigint, hi bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT lo + ((hashint8(i * 1000003 + stream) & 2147483647) % (hi - lo + 1)) $$;

-- one word of a list, drawn from (row, stream)
CREATE FUNCTION tpch_pick(i bigint, stream int, words text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT words[tpch_r(i, stream, 1, array_length(words, 1))] $$;

-- text of random words, about len characters
CREATE FUNCTION tpch_text(i bigint, stream int, len int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT left(string_agg(tpch_pick(i, stream * 64 + k,
       '{furiously,carefully,quickly,slyly,blithely,final,regular,express,pending,ironic,bold,even,special,silent,unusual,deposits,requests,packages,accounts,instructions,theodolites,foxes,pinto,beans,asymptotes,dolphins,platelets,ideas,dependencies,excuses,sheaves,waters}'::text[]), ' '), len)
     FROM generate_series(1, 1 + len / 7) k $$;

CREATE FUNCTION tpch_load(sf float8) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    nsupp bigint := greatest(round(10000 * sf), 10);
    npart bigint := greatest(round(200000 * sf), 200);
    ncust bigint := greatest(round(150000 * sf), 150);
    nord  bigint := greatest(round(1500000 * sf), 1500);
    colors text[] := '{almond,antique,aquamarine,azure,beige,bisque,black,blanched,blue,blush,brown,burlywood,burnished,chartreuse,chiffon,chocolate,coral,cornflower,cornsilk,cream,cyan,dark,deep,dim,dodger,drab,firebrick,floral,forest,frosted,gainsboro,ghost,goldenrod,green,grey,honeydew,hot,indian,ivory,khaki,lace,lavender,lawn,lemon,light,lime,linen,magenta,maroon,medium,metallic,midnight,mint,misty,moccasin,navajo,navy,olive,orange,orchid,pale,papaya,peach,peru,pink,plum,powder,puff,purple,red,rose,rosy,royal,saddle,salmon,sandy,seashell,sienna,sky,slate,smoke,snow,spring,steel,tan,thistle,tomato,turquoise,violet,wheat,white,yellow}';
BEGIN
    INSERT INTO region VALUES
        (0, 'AFRICA', 'lar deposits'), (1, 'AMERICA', 'hs use ironic requests'),
        (2, 'ASIA', 'ges. thinly even pinto beans'), (3, 'EUROPE', 'ly final courts'),
        (4, 'MIDDLE EAST', 'uickly special accounts');
    INSERT INTO nation
    SELECT k - 1, n, r, 'nation ' || n
      FROM unnest('{ALGERIA,ARGENTINA,BRAZIL,CANADA,EGYPT,ETHIOPIA,FRANCE,GERMANY,INDIA,INDONESIA,IRAN,IRAQ,JAPAN,JORDAN,KENYA,MOROCCO,MOZAMBIQUE,PERU,CHINA,ROMANIA,SAUDI ARABIA,VIETNAM,RUSSIA,UNITED KINGDOM,UNITED STATES}'::text[],
                  '{0,1,1,1,4,0,3,3,2,2,4,4,2,4,0,0,0,1,2,3,4,2,3,3,1}'::int[])
           WITH ORDINALITY AS t(n, r, k);

    INSERT INTO supplier
    SELECT i, 'Supplier#' || lpad(i::text, 9, '0'), tpch_text(i, 1, 25),
           tpch_r(i, 2, 0, 24),
           (tpch_r(i, 2, 0, 24) + 10) || '-' || tpch_r(i, 3, 100, 999) || '-' ||
               tpch_r(i, 4, 100, 999) || '-' || tpch_r(i, 5, 1000, 9999),
           tpch_r(i, 6, -99999, 999999) / 100.0,
           CASE WHEN tpch_r(i, 7, 1, 2000) <= 10 THEN 'wake Customer slyly Complaints ' || tpch_text(i, 8, 40)
                ELSE tpch_text(i, 8, 70) END
      FROM generate_series(1, nsupp) i;

    INSERT INTO part
    SELECT i,
           tpch_pick(i, 1, colors) || ' ' || tpch_pick(i, 2, colors) || ' ' || tpch_pick(i, 3, colors)
               || ' ' || tpch_pick(i, 4, colors) || ' ' || tpch_pick(i, 5, colors),
           'Manufacturer#' || m, 'Brand#' || m || tpch_r(i, 7, 1, 5),
           tpch_pick(i, 8, '{STANDARD,SMALL,MEDIUM,LARGE,ECONOMY,PROMO}') || ' ' ||
               tpch_pick(i, 9, '{ANODIZED,BURNISHED,PLATED,POLISHED,BRUSHED}') || ' ' ||
               tpch_pick(i, 10, '{TIN,NICKEL,BRASS,STEEL,COPPER}'),
           tpch_r(i, 11, 1, 50),
           tpch_pick(i, 12, '{SM,LG,MED,JUMBO,WRAP}') || ' ' ||
               tpch_pick(i, 13, '{CASE,BOX,BAG,JAR,PKG,PACK,CAN,DRUM}'),
           (90000 + ((i / 10) % 20001) + 100 * (i % 1000)) / 100.0,
           tpch_text(i, 14, 15)
      FROM generate_series(1, npart) i, LATERAL (SELECT tpch_r(i, 6, 1, 5) AS m) mm;

    INSERT INTO partsupp
    SELECT p, ((p + j * (nsupp / 4)) % nsupp) + 1,
           tpch_r(p * 4 + j, 1, 1, 9999), tpch_r(p * 4 + j, 2, 100, 100000) / 100.0,
           tpch_text(p * 4 + j, 3, 100)
      FROM generate_series(1, npart) p, generate_series(0, 3) j;

    INSERT INTO customer
    SELECT i, 'Customer#' || lpad(i::text, 9, '0'), tpch_text(i, 1, 25), n,
           (n + 10) || '-' || tpch_r(i, 3, 100, 999) || '-' || tpch_r(i, 4, 100, 999) || '-' ||
               tpch_r(i, 5, 1000, 9999),
           tpch_r(i, 6, -99999, 999999) / 100.0,
           tpch_pick(i, 7, '{AUTOMOBILE,BUILDING,FURNITURE,MACHINERY,HOUSEHOLD}'),
           tpch_text(i, 8, 70)
      FROM generate_series(1, ncust) i, LATERAL (SELECT tpch_r(i, 2, 0, 24)::int AS n) nn;

    -- a third of the customers place no order (o_custkey is never a multiple of 3)
    INSERT INTO orders
    SELECT i, c - CASE WHEN c % 3 = 0 THEN 1 ELSE 0 END,
           'O', 0,
           date '1992-01-01' + tpch_r(i, 2, 0, 2405)::int,
           tpch_pick(i, 3, '{1-URGENT,2-HIGH,3-MEDIUM,4-NOT SPECIFIED,5-LOW}'),
           'Clerk#' || lpad(tpch_r(i, 4, 1, greatest(round(1000 * sf), 1)::bigint)::text, 9, '0'),
           0,
           CASE WHEN tpch_r(i, 5, 1, 100) <= 2 THEN 'special packages requests ' || tpch_text(i, 6, 40)
                ELSE tpch_text(i, 6, 60) END
      FROM generate_series(1, nord) i, LATERAL (SELECT tpch_r(i, 1, 1, ncust) AS c) cc;

    INSERT INTO lineitem
    SELECT o.o_orderkey, pk,
           ((pk + sj * (nsupp / 4)) % nsupp) + 1,
           ln, q, q * (90000 + ((pk / 10) % 20001) + 100 * (pk % 1000)) / 100.0,
           tpch_r(k, 4, 0, 10) / 100.0, tpch_r(k, 5, 0, 8) / 100.0,
           CASE WHEN sd + rd <= date '1995-06-17'
                THEN CASE WHEN tpch_r(k, 6, 0, 1) = 0 THEN 'R' ELSE 'A' END ELSE 'N' END,
           CASE WHEN sd > date '1995-06-17' THEN 'O' ELSE 'F' END,
           sd, o.o_orderdate + tpch_r(k, 7, 30, 90)::int, sd + rd,
           tpch_pick(k, 8, '{DELIVER IN PERSON,COLLECT COD,NONE,TAKE BACK RETURN}'),
           tpch_pick(k, 9, '{REG AIR,AIR,RAIL,SHIP,TRUCK,MAIL,FOB}'),
           tpch_text(k, 10, 30)
      FROM orders o,
           generate_series(1, 7) ln,
           LATERAL (SELECT o.o_orderkey::bigint * 8 + ln AS k) kk,
           LATERAL (SELECT tpch_r(k, 1, 1, npart) AS pk, tpch_r(k, 2, 0, 3) AS sj,
                           tpch_r(k, 3, 1, 50) AS q,
                           o.o_orderdate + tpch_r(k, 11, 1, 121)::int AS sd,
                           tpch_r(k, 12, 1, 30)::int AS rd) v
     WHERE ln <= tpch_r(o.o_orderkey, 9, 1, 7);

    UPDATE orders o SET o_orderstatus = s.st, o_totalprice = s.tp
      FROM (SELECT l_orderkey,
                   CASE WHEN bool_and(l_linestatus = 'F') THEN 'F'
                        WHEN bool_and(l_linestatus = 'O') THEN 'O' ELSE 'P' END AS st,
                   sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)) AS tp
              FROM lineitem GROUP BY l_orderkey) s
     WHERE s.l_orderkey = o.o_orderkey;
END $$;

SELECT tpch_load(:sf);

-- the indexes a TPC-H installation usually adds beside the keys
CREATE INDEX orders_custkey ON orders (o_custkey);
CREATE INDEX orders_orderdate ON orders (o_orderdate);
CREATE INDEX lineitem_partkey_suppkey ON lineitem (l_partkey, l_suppkey);
CREATE INDEX lineitem_shipdate ON lineitem (l_shipdate);
CREATE INDEX partsupp_suppkey ON partsupp (ps_suppkey);
CREATE INDEX customer_nationkey ON customer (c_nationkey);
CREATE INDEX supplier_nationkey ON supplier (s_nationkey);

VACUUM ANALYZE;
