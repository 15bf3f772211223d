DECLARE
  v_closes_cycle boolean;
BEGIN
  -- The direct loop is the check constraint's to report.
  IF NEW.course_id = NEW.prerequisite_course_id THEN
    RETURN NEW;
  END IF;

  -- Two concurrent inserts could each pass the check below and close a cycle together:
  -- serialise prerequisite changes within the tenant.
  PERFORM pg_advisory_xact_lock(
    hashtextextended('course_management.course_prerequisites/' || NEW.organization_id::text, 0));

  -- Everything the new prerequisite already requires, directly or not (the row being
  -- replaced by an update does not count). Reaching the course itself means a cycle.
  WITH RECURSIVE required(course_id) AS (
    SELECT NEW.prerequisite_course_id
    UNION
    SELECT cp.prerequisite_course_id
      FROM course_management.course_prerequisites AS cp
      JOIN required AS r ON cp.course_id = r.course_id
     WHERE NOT (TG_OP = 'UPDATE'
                AND cp.course_id = OLD.course_id
                AND cp.prerequisite_course_id = OLD.prerequisite_course_id)
  )
  SELECT EXISTS (SELECT 1 FROM required WHERE required.course_id = NEW.course_id)
    INTO v_closes_cycle;

  IF v_closes_cycle THEN
    RAISE EXCEPTION 'course % cannot require course %: the prerequisites would form a cycle',
                    NEW.course_id, NEW.prerequisite_course_id
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'course_prerequisites_no_cycle',
            HINT = 'Remove one of the existing prerequisites of the cycle first.';
  END IF;
  RETURN NEW;
END
