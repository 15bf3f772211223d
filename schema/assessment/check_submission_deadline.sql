DECLARE
  v_status       assessment.assignment_status;
  v_opens_at     timestamptz;
  v_due_at       timestamptz;
  v_late_allowed boolean;
BEGIN
  IF NEW.submitted_at IS NULL THEN
    NEW.is_late := false;
    RETURN NEW;
  END IF;

  SELECT a.status, a.opens_at, a.due_at, a.late_submissions_allowed
    INTO v_status, v_opens_at, v_due_at, v_late_allowed
    FROM assessment.assignments AS a
   WHERE a.id = NEW.assignment_id;

  IF v_status IS DISTINCT FROM 'published' THEN
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('assignment %s is not open for submissions (status %s)', NEW.assignment_id, v_status);
  END IF;
  IF NEW.submitted_at < v_opens_at THEN
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('assignment %s opens at %s', NEW.assignment_id, v_opens_at);
  END IF;

  NEW.is_late := coalesce(NEW.submitted_at > v_due_at, false);
  IF NEW.is_late AND NOT v_late_allowed THEN
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('assignment %s was due at %s; late submissions are not accepted', NEW.assignment_id, v_due_at),
      HINT = 'Set late_submissions_allowed on the assignment to accept it.';
  END IF;
  RETURN NEW;
END
