-- Runs with timezone = UTC (see the function's SET clause), so month boundaries, partition names
-- and the bound literals below are all UTC, matching the partitions declared in 07_analytics.yaml.
DECLARE
  v_first_month date := date_trunc('month', now())::date;
  v_month       date;
  v_from        timestamptz;
  v_to          timestamptz;
  v_name        text;
  v_moved       bigint;
  v_created     integer := 0;
BEGIN
  IF p_months_ahead IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120 THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('p_months_ahead must be between 0 and 120, not %s', coalesce(p_months_ahead::text, 'NULL'));
  END IF;

  -- Two schedulers calling this at once would both find a month missing and race to create it.
  PERFORM pg_advisory_xact_lock(hashtext('analytics.create_learning_event_partitions'));

  FOR v_offset IN 0 .. p_months_ahead LOOP
    v_month := (v_first_month + make_interval(months => v_offset))::date;
    v_name  := 'learning_events_' || to_char(v_month, 'YYYY_MM');
    CONTINUE WHEN to_regclass(format('analytics.%I', v_name)) IS NOT NULL;

    v_from := v_month::timestamptz;
    v_to   := (v_month + interval '1 month')::timestamptz;

    -- Attaching a partition fails while the default partition holds rows of its range, so those
    -- rows are moved first. The lock keeps new rows of that month from reaching the default
    -- partition between the move and the attach (ATTACH would take this lock anyway).
    LOCK TABLE analytics.learning_events_default IN ACCESS EXCLUSIVE MODE;

    -- Built standalone and then attached, so that the moved rows can be written straight into it
    -- (keeping their ids) before it becomes part of the partitioned table. LIKE copies the
    -- columns, defaults and checks that ATTACH requires; ATTACH adds the partitioned indexes and
    -- foreign keys.
    EXECUTE format(
      'CREATE TABLE analytics.%I (LIKE analytics.learning_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)',
      v_name);

    EXECUTE format(
      'INSERT INTO analytics.%I SELECT * FROM analytics.learning_events_default WHERE occurred_at >= $1 AND occurred_at < $2',
      v_name)
      USING v_from, v_to;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    IF v_moved > 0 THEN
      DELETE FROM analytics.learning_events_default
       WHERE occurred_at >= v_from AND occurred_at < v_to;
      RAISE NOTICE 'moved % learning event(s) of % from the default partition into %', v_moved,
        to_char(v_month, 'YYYY-MM'), v_name;
    END IF;

    EXECUTE format('ALTER TABLE analytics.learning_events ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)',
                   v_name, v_from, v_to);
    EXECUTE format('COMMENT ON TABLE analytics.%I IS %L', v_name,
                   format('Learning events of %s (UTC); created by analytics.create_learning_event_partitions.',
                          to_char(v_month, 'YYYY-MM')));
    v_created := v_created + 1;
  END LOOP;

  RETURN v_created;
END
