DECLARE
  v_status       assessment.quiz_status;
  v_pass_percent numeric;
  v_max_attempts integer;
BEGIN
  SELECT q.status, q.pass_percent, q.max_attempts
    INTO v_status, v_pass_percent, v_max_attempts
    FROM assessment.quizzes AS q
   WHERE q.id = NEW.quiz_id;

  IF TG_OP = 'INSERT' THEN
    IF v_status IS DISTINCT FROM 'published' THEN
      RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        MESSAGE = format('quiz %s is not published and accepts no attempts', NEW.quiz_id);
    END IF;
    IF NEW.attempt_number > v_max_attempts THEN
      RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        MESSAGE = format('attempt %s exceeds the %s attempts allowed for quiz %s',
                         NEW.attempt_number, v_max_attempts, NEW.quiz_id);
    END IF;
  END IF;

  -- Compared without division so that no rounding decides a borderline pass.
  IF NEW.passed IS NOT NULL
     AND NEW.passed <> (NEW.score * 100 >= v_pass_percent * NEW.max_score) THEN
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('passed = %s contradicts score %s of %s with a pass mark of %s%%',
                       NEW.passed, NEW.score, NEW.max_score, v_pass_percent);
  END IF;
  RETURN NEW;
END
